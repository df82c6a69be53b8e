/** The JSON shapes of the SocioGraph HTTP API (see crates/sociograph-server and /docs). */

import type { Mode } from './lib/settings';

export interface DocumentRef {
  id: string;
  title: string;
  source: string;
}

export interface EntitySummary {
  id: number;
  name: string;
  type: string;
}

export interface Hit {
  chunk_id: number;
  text: string;
  score: number;
  document: DocumentRef;
  page: number | null;
  entities: EntitySummary[];
  ranks: { vector?: number; keyword?: number; graph?: number };
}

export interface RetrievalTimings {
  vector_ms: number;
  keyword_ms: number;
  graph_ms: number;
  rerank_ms: number;
  total_ms: number;
}

export interface SearchResult {
  hits: Hit[];
  mode: Mode;
  matched_entities: EntitySummary[];
  reranked: boolean;
  timings: RetrievalTimings;
}

export interface Source {
  n: number;
  chunk_id: number;
  document: DocumentRef;
  page: number | null;
  text: string;
}

export interface PathStep {
  relation_id: number;
  from: EntitySummary;
  to: EntitySummary;
  type: string;
  description: string;
  forward: boolean;
  evidence_chunk: number | null;
}

export type AnswerMode = 'llm' | 'extractive';

export interface Answer {
  query_id: number;
  query: string;
  answer: string;
  mode: AnswerMode;
  retrieval_mode: Mode;
  model: string | null;
  language: string | null;
  citations: Source[];
  sources: Source[];
  graph_path: PathStep[] | null;
  notice: string | null;
  timings: { retrieval: RetrievalTimings; generation_ms: number; translation_ms: number; total_ms: number };
  usage: {
    prompt_tokens: number;
    completion_tokens: number;
    cost_usd: number | null;
  } | null;
}

/** The first event of an answer stream. */
export interface SourcesEvent {
  sources: Source[];
  graph_path: PathStep[] | null;
  mode: AnswerMode;
  retrieval_mode: Mode;
}

export interface AskBody {
  query: string;
  mode?: Mode;
  top_k?: number;
  model?: string;
  language?: string;
}

export interface DocumentRecord {
  id: string;
  content_hash: string;
  title: string;
  source: string;
  media_type: string;
  pages: number;
  bytes: number;
  created_at: string;
  chunks: number;
  /** Counts that newer servers may add; shown when present. */
  entities?: number;
  relations?: number;
}

export interface DocumentList {
  documents: DocumentRecord[];
  total: number;
}

export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface JobRecord {
  id: string;
  status: JobStatus;
  source: string;
  content_hash: string;
  document_id: string;
  stage: string;
  progress: number;
  error: string | null;
  created_at: string;
  updated_at: string;
}

export interface Accepted {
  document_id: string;
  job_id: string | null;
  filename: string;
  duplicate: boolean;
}

export interface UploadResponse {
  document_id: string;
  job_id: string | null;
  documents: Accepted[];
}

export interface EntityRecord {
  id: number;
  name: string;
  type: string;
  description: string;
  aliases: string[];
  mentions: number;
  documents: number;
}

export interface Evidence {
  chunk_id: number;
  document: DocumentRef;
  page: number | null;
  description: string;
}

export interface RelationRecord {
  id: number;
  source: EntitySummary;
  target: EntitySummary;
  type: string;
  description: string;
  weight: number;
  evidence: Evidence[];
}

export interface EntityDetail {
  entity: EntityRecord;
  relations: RelationRecord[];
}

export interface HistoryRecord {
  id: number;
  created_at: string;
  query: string;
  answer: string;
  mode: string;
  retrieval_mode: string;
  model: string | null;
  language: string | null;
  /** The cited sources as stored with the answer. */
  citations: Source[] | null;
  timings: unknown;
  usage: unknown;
}

export interface HistoryPage {
  items: HistoryRecord[];
  page: number;
  per_page: number;
  total: number;
}

export interface ServerSettings {
  version: string;
  generator: AnswerMode;
  model: string | null;
  modes: Mode[];
  default_mode: Mode;
  top_k: { default: number; max: number };
  translation: boolean;
  api_key_required: boolean;
}

export interface SubgraphNode {
  id: number;
  name: string;
  type: string;
  mentions: number;
  degree: number;
  pagerank: number;
  community: number | null;
  depth: number;
}

export interface SubgraphEdge {
  id: number;
  source: number;
  target: number;
  type: string;
  description: string;
  weight: number;
}

export interface Subgraph {
  center: EntitySummary;
  nodes: SubgraphNode[];
  edges: SubgraphEdge[];
  truncated: boolean;
}

export interface PathEvidence {
  chunk_id: number;
  document_id: string;
  title: string;
  source: string;
  page: number | null;
  text: string;
}

export interface PathHop {
  relation_id: number;
  from: EntitySummary;
  to: EntitySummary;
  type: string;
  description: string;
  forward: boolean;
  evidence: PathEvidence | null;
}

export interface PathResult {
  from: EntitySummary;
  to: EntitySummary;
  paths: { hops: PathHop[] }[];
}

export interface GraphStats {
  generation: number;
  entities: number;
  relations: number;
  components: number;
  modularity: number;
  top_pagerank: { entity: EntitySummary; score: number }[];
  top_degree: { entity: EntitySummary; degree: number }[];
  communities: { id: number; size: number; members: EntitySummary[] }[];
  compute_ms: number;
}
