/**
 * Graph: find an entity, explore its neighbourhood (`/api/graph/subgraph`), read an entity's
 * relations and evidence (`/api/graph/entities/{id}`), find paths between two entities
 * (`/api/graph/path`), and see the most central actors and the communities
 * (`/api/graph/stats`).
 */

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';

import { api } from '../api';
import { EntityPicker } from '../components/EntityPicker';
import { GraphCanvas, communityColour } from '../components/GraphCanvas';
import { PathFinderHops } from '../components/PathHops';
import { Empty, ErrorAlert, PageHeader, Spinner, TypeBadge, pageLabel, relationLabel } from '../components/ui';
import { errorMessage } from '../lib/errors';
import { href, navigate } from '../router';
import type { EntityDetail, EntitySummary, GraphStats, PathResult, Subgraph } from '../types';

const DEPTHS = [1, 2, 3];
const LIMITS = [30, 60, 120, 300];

function openEntity(id: number, depth?: number, limit?: number) {
  navigate(href('graph', { entity: id, depth: depth && depth !== 1 ? depth : undefined, limit: limit && limit !== 60 ? limit : undefined }));
  // Opened from further down the page (top actors, communities): bring the graph into view.
  const toolbar = document.querySelector('.graph-toolbar');
  if (toolbar && toolbar.getBoundingClientRect().top < 0) toolbar.scrollIntoView({ block: 'start', behavior: 'smooth' });
}

export function GraphView({ params }: { params: URLSearchParams }) {
  const entityId = Number(params.get('entity')) || null;
  const depth = DEPTHS.includes(Number(params.get('depth'))) ? Number(params.get('depth')) : 1;
  const limit = LIMITS.includes(Number(params.get('limit'))) ? Number(params.get('limit')) : 60;

  const [graph, setGraph] = useState<Subgraph | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [pathFrom, setPathFrom] = useState<EntitySummary | null>(null);
  const [pathTo, setPathTo] = useState<EntitySummary | null>(null);

  useEffect(() => {
    if (entityId == null) {
      setGraph(null);
      return;
    }
    const ctl = new AbortController();
    setLoading(true);
    setError(null);
    api
      .subgraph(entityId, depth, limit, ctl.signal)
      .then((g) => {
        setGraph(g);
        setSelected(g.center.id);
      })
      .catch((e) => {
        if (!ctl.signal.aborted) setError(errorMessage(e));
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
  }, [entityId, depth, limit]);

  const communities = useMemo(() => {
    const counts = new Map<number, number>();
    for (const n of graph?.nodes ?? []) if (n.community != null) counts.set(n.community, (counts.get(n.community) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1]);
  }, [graph]);

  const center: EntitySummary | null = graph ? graph.center : null;

  return (
    <section class="view view-graph" aria-labelledby="view-title">
      <PageHeader title="Graph">Actors, organisations and places, and how they are related.</PageHeader>

      <div class="card graph-toolbar">
        <EntityPicker
          label="Entity"
          testId="graph-search"
          value={center}
          onPick={(e) => openEntity(e.id, depth, limit)}
          placeholder="Search for a person, organisation, place…"
        />
        <label class="field field-inline">
          <span class="label">Depth</span>
          <select
            value={depth}
            data-testid="graph-depth"
            onChange={(e) => entityId && openEntity(entityId, Number((e.currentTarget as HTMLSelectElement).value), limit)}
          >
            {DEPTHS.map((d) => (
              <option key={d} value={d}>
                {d} {d === 1 ? 'hop' : 'hops'}
              </option>
            ))}
          </select>
        </label>
        <label class="field field-inline">
          <span class="label">Max nodes</span>
          <select
            value={limit}
            onChange={(e) => entityId && openEntity(entityId, depth, Number((e.currentTarget as HTMLSelectElement).value))}
          >
            {LIMITS.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
      </div>

      <ErrorAlert message={error} testId="graph-error" />

      {entityId != null && (graph || loading) && (
        <div class="graph-main">
          <div class="card graph-card">
            {graph ? (
              <>
                <div class="graph-meta">
                  <span>
                    <strong>{graph.nodes.length}</strong> entities · <strong>{graph.edges.length}</strong> relations
                    {graph.truncated && (
                      <span class="badge badge-warn" title="The neighbourhood has more entities than the node limit">
                        truncated
                      </span>
                    )}
                    {graph.edges.length === 0 && <span class="muted"> — no relations recorded for {graph.center.name}</span>}
                  </span>
                  {loading && <Spinner label="Loading…" />}
                </div>
                <GraphCanvas
                  graph={graph}
                  selected={selected}
                  onSelect={setSelected}
                  onRecenter={(id) => openEntity(id, depth, limit)}
                />
                {communities.length > 0 && (
                  <div class="legend" aria-label="Communities">
                    {communities.slice(0, 10).map(([c, n]) => (
                      <span key={c} class="legend-item">
                        <span class="swatch" style={{ background: communityColour(c) }} />
                        community {c} ({n})
                      </span>
                    ))}
                  </div>
                )}
                <details class="node-list">
                  <summary>Entities in this graph</summary>
                  <ul data-testid="graph-node-list">
                    {graph.nodes.map((n) => (
                      <li key={n.id}>
                        <button
                          type="button"
                          class={`link-btn${selected === n.id ? ' active' : ''}`}
                          data-testid="graph-node"
                          data-name={n.name}
                          onClick={() => setSelected(n.id)}
                        >
                          <span class="swatch" style={{ background: communityColour(n.community) }} />
                          {n.name}
                        </button>
                        <span class="muted small">
                          {' '}
                          {n.type} · {n.depth === 0 ? 'centre' : `${n.depth} ${n.depth === 1 ? 'hop' : 'hops'}`}
                        </span>
                      </li>
                    ))}
                  </ul>
                </details>
              </>
            ) : loading ? (
              <Spinner label="Loading the neighbourhood…" />
            ) : (
              <Empty>Nothing to draw.</Empty>
            )}
          </div>
          <EntityPanel
            id={selected}
            centerId={graph?.center.id ?? null}
            onRecenter={(id) => openEntity(id, depth, limit)}
            onPathFrom={setPathFrom}
            onPathTo={setPathTo}
          />
        </div>
      )}
      {entityId == null && !error && (
        <p class="empty card">Search for an entity above, or open one of the most central actors below.</p>
      )}

      <div class="graph-lower">
        <PathFinder from={pathFrom} to={pathTo} setFrom={setPathFrom} setTo={setPathTo} />
        <StatsPanel />
      </div>
    </section>
  );
}

function EntityPanel({ id, centerId, onRecenter, onPathFrom, onPathTo }: {
  id: number | null;
  centerId: number | null;
  onRecenter(id: number): void;
  onPathFrom(e: EntitySummary): void;
  onPathTo(e: EntitySummary): void;
}) {
  const [detail, setDetail] = useState<EntityDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [showAll, setShowAll] = useState(false);

  useEffect(() => {
    setShowAll(false);
    if (id == null) {
      setDetail(null);
      return;
    }
    const ctl = new AbortController();
    setLoading(true);
    setError(null);
    api
      .entity(id, ctl.signal)
      .then(setDetail)
      .catch((e) => {
        if (!ctl.signal.aborted) setError(errorMessage(e));
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
  }, [id]);

  if (id == null) {
    return (
      <aside class="card entity-panel">
        <Empty>Click a node to see its relations and evidence.</Empty>
      </aside>
    );
  }
  const e = detail?.entity;
  const relations = detail?.relations ?? [];
  const shown = showAll ? relations : relations.slice(0, 12);
  const summary: EntitySummary | null = e ? { id: e.id, name: e.name, type: e.type } : null;

  return (
    <aside class="card entity-panel" data-testid="entity-panel" aria-live="polite">
      <ErrorAlert message={error} testId="entity-error" />
      {loading && !detail && <Spinner label="Loading…" />}
      {e && summary && (
        <>
          <header class="entity-head">
            <h2 dir="auto" data-testid="entity-name">
              {e.name}
            </h2>
            <TypeBadge type={e.type} />
          </header>
          {e.description && (
            <p class="entity-desc" dir="auto">
              {e.description}
            </p>
          )}
          {e.aliases.length > 0 && <p class="muted small">Also: {e.aliases.join(', ')}</p>}
          <p class="muted small">
            {e.mentions} mentions in {e.documents} {e.documents === 1 ? 'document' : 'documents'}
          </p>
          <div class="row-actions">
            {e.id !== centerId && (
              <button type="button" class="btn btn-small btn-primary" onClick={() => onRecenter(e.id)} data-testid="entity-recenter">
                Centre graph here
              </button>
            )}
            <button type="button" class="btn btn-small" onClick={() => onPathFrom(summary)}>
              Path from
            </button>
            <button type="button" class="btn btn-small" onClick={() => onPathTo(summary)}>
              Path to
            </button>
          </div>
          <h3 class="panel-sub">
            Relations <span class="count">{relations.length}</span>
          </h3>
          {relations.length === 0 && <Empty>No relations recorded.</Empty>}
          <ul class="relations" data-testid="entity-relations">
            {shown.map((r) => {
              const outgoing = r.source.id === e.id;
              const other = outgoing ? r.target : r.source;
              return (
                <li key={r.id} class="relation">
                  <div class="relation-line">
                    <span class="muted">{outgoing ? '' : '← '}</span>
                    <span class="relation-type">{relationLabel(r.type)}</span>
                    <span class="muted">{outgoing ? ' → ' : ' — '}</span>
                    <button type="button" class="link-btn" onClick={() => onRecenter(other.id)} title="Centre the graph on this entity">
                      {other.name}
                    </button>
                  </div>
                  {r.description && <p class="relation-desc" dir="auto">{r.description}</p>}
                  {r.evidence.length > 0 && (
                    <ul class="evidence">
                      {r.evidence.slice(0, 3).map((ev) => (
                        <li key={ev.chunk_id}>
                          {ev.description && ev.description !== r.description && (
                            <span dir="auto">“{ev.description}” </span>
                          )}
                          <span class="muted small">
                            {ev.description && ev.description !== r.description ? '— ' : 'Source: '}
                            {ev.document.title}
                            {ev.page != null && `, ${pageLabel(ev.page)}`}
                          </span>
                        </li>
                      ))}
                    </ul>
                  )}
                </li>
              );
            })}
          </ul>
          {relations.length > shown.length && (
            <button type="button" class="btn btn-small" onClick={() => setShowAll(true)}>
              Show all {relations.length}
            </button>
          )}
        </>
      )}
    </aside>
  );
}

function PathFinder({ from, to, setFrom, setTo }: {
  from: EntitySummary | null;
  to: EntitySummary | null;
  setFrom(e: EntitySummary | null): void;
  setTo(e: EntitySummary | null): void;
}) {
  const [maxHops, setMaxHops] = useState(4);
  const [result, setResult] = useState<PathResult | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const abort = useRef<AbortController | null>(null);

  async function find(e: Event) {
    e.preventDefault();
    if (!from || !to) {
      setError('Pick both entities first.');
      return;
    }
    abort.current?.abort();
    const ctl = new AbortController();
    abort.current = ctl;
    setLoading(true);
    setError(null);
    setResult(null);
    try {
      setResult(await api.path(from.id, to.id, maxHops, 3, ctl.signal));
    } catch (err) {
      if (!ctl.signal.aborted) setError(errorMessage(err));
    } finally {
      if (!ctl.signal.aborted) setLoading(false);
    }
  }

  return (
    <section class="card path-finder" aria-labelledby="path-title" data-testid="path-finder">
      <h2 id="path-title">Path finder</h2>
      <p class="muted small">How is one entity connected to another? Each hop shows the text that supports it.</p>
      <form onSubmit={find} class="path-form">
        <EntityPicker label="From" testId="path-from" value={from} onPick={setFrom} />
        <button
          type="button"
          class="icon-btn swap"
          aria-label="Swap from and to"
          onClick={() => {
            setFrom(to);
            setTo(from);
          }}
        >
          ⇅
        </button>
        <EntityPicker label="To" testId="path-to" value={to} onPick={setTo} />
        <div class="form-row">
          <label class="field field-inline">
            <span class="label">Max hops</span>
            <select value={maxHops} onChange={(e) => setMaxHops(Number((e.currentTarget as HTMLSelectElement).value))}>
              {[1, 2, 3, 4, 5, 6].map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          <div class="form-actions">
            <button type="submit" class="btn btn-primary" disabled={loading} data-testid="path-submit">
              {loading ? 'Finding…' : 'Find path'}
            </button>
          </div>
        </div>
      </form>
      <ErrorAlert message={error} testId="path-error" />
      {loading && <Spinner label="Searching the graph…" />}
      {result && (
        <div data-testid="path-result">
          {result.paths.length === 0 ? (
            <Empty>
              {result.from.name} and {result.to.name} are not connected within {maxHops} {maxHops === 1 ? 'hop' : 'hops'}.
            </Empty>
          ) : (
            result.paths.map((p, i) => (
              <div key={i} class="path" data-testid="path">
                <h3 class="path-title">
                  Path {i + 1} · {p.hops.length} {p.hops.length === 1 ? 'hop' : 'hops'}
                </h3>
                <PathFinderHops hops={p.hops} />
              </div>
            ))
          )}
        </div>
      )}
    </section>
  );
}

let statsCache: GraphStats | null = null;

function StatsPanel() {
  const [stats, setStats] = useState<GraphStats | null>(statsCache);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    if (statsCache && reload === 0) return;
    const ctl = new AbortController();
    setLoading(true);
    setError(null);
    api
      .stats(10, ctl.signal)
      .then((s) => {
        statsCache = s;
        setStats(s);
      })
      .catch((e) => {
        if (!ctl.signal.aborted) setError(errorMessage(e));
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
  }, [reload]);

  return (
    <section class="card stats" aria-labelledby="stats-title" data-testid="graph-stats">
      <div class="section-head">
        <h2 id="stats-title">Key actors</h2>
        <button type="button" class="btn btn-small" onClick={() => setReload((n) => n + 1)} disabled={loading}>
          Refresh
        </button>
      </div>
      <ErrorAlert message={error} testId="stats-error" />
      {loading && !stats && <Spinner label="Computing…" />}
      {stats && (
        <>
          <p class="muted small">
            {stats.entities} entities · {stats.relations} relations · {stats.components} components · modularity{' '}
            {stats.modularity.toFixed(2)}
          </p>
          <div class="stats-cols">
            <div>
              <h3 class="panel-sub">Most central (PageRank)</h3>
              <ol class="rank-list" data-testid="top-actors">
                {stats.top_pagerank.map((t) => (
                  <li key={t.entity.id}>
                    <button type="button" class="link-btn" onClick={() => openEntity(t.entity.id)} data-testid="top-actor">
                      {t.entity.name}
                    </button>
                    <span class="muted small"> {t.entity.type} · {t.score.toFixed(3)}</span>
                  </li>
                ))}
              </ol>
            </div>
            <div>
              <h3 class="panel-sub">Most connected</h3>
              <ol class="rank-list">
                {stats.top_degree.map((t) => (
                  <li key={t.entity.id}>
                    <button type="button" class="link-btn" onClick={() => openEntity(t.entity.id)}>
                      {t.entity.name}
                    </button>
                    <span class="muted small"> {t.degree} relations</span>
                  </li>
                ))}
              </ol>
            </div>
          </div>
          {stats.communities.length > 0 && (
            <>
              <h3 class="panel-sub">Communities</h3>
              <ul class="communities">
                {stats.communities.map((c) => (
                  <li key={c.id} class="community">
                    <div class="community-head">
                      <span class="swatch" style={{ background: communityColour(c.id) }} />
                      <strong>Community {c.id}</strong>
                      <span class="muted small">{c.size} members</span>
                    </div>
                    <p class="chips">
                      {c.members.slice(0, 12).map((m) => (
                        <button key={m.id} type="button" class="chip" onClick={() => openEntity(m.id)}>
                          {m.name}
                        </button>
                      ))}
                      {c.size > Math.min(12, c.members.length) && <span class="muted small">+{c.size - Math.min(12, c.members.length)} more</span>}
                    </p>
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
    </section>
  );
}
