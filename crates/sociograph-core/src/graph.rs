//! The relation graph in memory: neighbourhoods, shortest paths, centrality and communities —
//! the questions an analyst asks of a network (who matters, which groups exist, how two actors
//! are connected).
//!
//! [`GraphCache`] loads the graph from the store once per write generation (one read
//! transaction); [`Graph::analytics`] computes degree, PageRank, connected components and
//! Louvain communities once per loaded graph, on first use. Both are replaced together when a
//! document is added or deleted, so answers never mix two versions of the graph.
//!
//! The graph is treated as undirected for all of this (an extracted relation's direction is
//! less reliable than its existence), but every path step reports the relation's real direction.
//! Edge strength: a stated relation weighs its evidence count; a co-occurrence
//! (`associated_with`) half of that.
//!
//! petgraph was considered and not used: its `page_rank` scans every node pair each iteration
//! (quadratic in entities) and it has no community detection, so both are written here over
//! plain adjacency lists, linear per iteration.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use serde::Serialize;
use sociograph_store::{EntitySummary, GraphData, GraphEntity, GraphRelation, PathStep, Store};

use crate::Result;

/// The relation type of co-occurrence links: used for paths only when nothing stated connects.
pub const CO_OCCURRENCE: &str = "associated_with";

/// Entities with more relations than this are passed through but not expanded by the path
/// search: a hub (the city everything happens in) would otherwise connect everyone in two hops.
const MAX_EXPANDED_DEGREE: usize = 400;

/// PageRank damping factor and convergence bounds.
const DAMPING: f64 = 0.85;
const PAGERANK_MAX_ITERATIONS: usize = 100;
const PAGERANK_TOLERANCE: f64 = 1e-10;

/// Louvain bounds: local-moving passes per level and aggregation levels.
const LOUVAIN_MAX_PASSES: usize = 50;
const LOUVAIN_MAX_LEVELS: usize = 32;

/// Edges returned with one neighbourhood at most (the densest graphs are cut, strongest kept).
const MAX_SUBGRAPH_EDGES: usize = 2000;

/// Members listed per community.
const COMMUNITY_MEMBERS: usize = 10;

/// One hop of a path under construction: (from node, to node, edge), dense indexes.
type Hop = (usize, usize, usize);

/// The graph of one write generation, with entity ids mapped to dense indexes.
pub struct Graph {
    generation: u64,
    nodes: Vec<GraphEntity>,
    index: HashMap<i64, usize>,
    edges: Vec<GraphRelation>,
    /// Dense (source, target) of each edge.
    ends: Vec<(usize, usize)>,
    /// Per node: (neighbour, edge index), both directions, self-loops left out.
    adjacency: Vec<Vec<(usize, usize)>>,
    analytics: OnceLock<Analytics>,
}

/// Whole-graph measures, computed once per [`Graph`].
#[derive(Debug, Clone)]
pub struct Analytics {
    /// Distinct neighbours per node.
    pub degree: Vec<usize>,
    /// Weighted, undirected PageRank per node; sums to 1.
    pub pagerank: Vec<f64>,
    /// Community per node, numbered by size (0 is the largest); `None` for a node alone.
    pub community: Vec<Option<usize>>,
    /// Nodes per community, by community number.
    pub community_sizes: Vec<usize>,
    /// Modularity of the partition (−0.5…1; above ~0.3 is a clear community structure).
    pub modularity: f64,
    /// Connected components, isolated entities included.
    pub components: usize,
    pub compute_ms: f64,
}

fn is_stated(edge: &GraphRelation) -> bool {
    edge.relation_type != CO_OCCURRENCE
}

/// How strongly an edge ties its ends, for analytics and for ordering.
fn strength(edge: &GraphRelation) -> f64 {
    let evidence = edge.weight.max(1) as f64;
    if is_stated(edge) {
        evidence
    } else {
        evidence * 0.5
    }
}

fn summary(node: &GraphEntity) -> EntitySummary {
    EntitySummary {
        id: node.id,
        name: node.name.clone(),
        entity_type: node.entity_type.clone(),
    }
}

impl Graph {
    /// Index the graph read from the store. Relations whose ends are unknown are skipped.
    pub fn new(data: GraphData) -> Graph {
        let index: HashMap<i64, usize> = data
            .entities
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id, i))
            .collect();
        let mut adjacency = vec![Vec::new(); data.entities.len()];
        let mut edges = Vec::with_capacity(data.relations.len());
        let mut ends = Vec::with_capacity(data.relations.len());
        for relation in data.relations {
            let (Some(&s), Some(&t)) = (index.get(&relation.source), index.get(&relation.target))
            else {
                continue;
            };
            let e = edges.len();
            if s != t {
                adjacency[s].push((t, e));
                adjacency[t].push((s, e));
            }
            edges.push(relation);
            ends.push((s, t));
        }
        Graph {
            generation: data.generation,
            nodes: data.entities,
            index,
            edges,
            ends,
            adjacency,
            analytics: OnceLock::new(),
        }
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn entity_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn relation_count(&self) -> usize {
        self.edges.len()
    }

    /// The entity with this id, if it is in the graph.
    pub fn entity(&self, id: i64) -> Option<EntitySummary> {
        self.index.get(&id).map(|&i| summary(&self.nodes[i]))
    }

    /// Degree, PageRank, components and communities; computed on first call.
    pub fn analytics(&self) -> &Analytics {
        self.analytics.get_or_init(|| {
            let _span = tracing::info_span!(
                "graph.analytics",
                entities = self.nodes.len(),
                relations = self.edges.len()
            )
            .entered();
            let started = Instant::now();
            let weighted = self.weighted_adjacency();
            let degree = weighted.iter().map(Vec::len).collect();
            let pagerank = pagerank(&weighted);
            let (membership, modularity) = louvain(&weighted);
            let (community, community_sizes) = number_by_size(&membership, &pagerank);
            let components = components(&weighted);
            Analytics {
                degree,
                pagerank,
                community,
                community_sizes,
                modularity,
                components,
                compute_ms: started.elapsed().as_secs_f64() * 1000.0,
            }
        })
    }

    /// Per node: (neighbour, summed strength of every relation between the two), by neighbour.
    fn weighted_adjacency(&self) -> Vec<Vec<(usize, f64)>> {
        self.adjacency
            .iter()
            .map(|links| {
                let mut merged: BTreeMap<usize, f64> = BTreeMap::new();
                for &(v, e) in links {
                    *merged.entry(v).or_default() += strength(&self.edges[e]);
                }
                merged.into_iter().collect()
            })
            .collect()
    }

    /// How strong a tie is: stated before co-occurrence, then more evidence.
    fn tie(&self, e: usize) -> (bool, u64) {
        let edge = &self.edges[e];
        (is_stated(edge), edge.weight)
    }

    /// Total order of preference between edges: the stronger tie, then the older relation.
    fn preference(&self, e: usize) -> ((bool, u64), std::cmp::Reverse<i64>) {
        (self.tie(e), std::cmp::Reverse(self.edges[e].id))
    }

    /// The neighbourhood of `center`: breadth-first to `depth` hops, at most `limit` nodes,
    /// strongest ties first. `None` when the entity is not in the graph.
    pub fn subgraph(&self, center: i64, depth: usize, limit: usize) -> Option<Subgraph> {
        let &start = self.index.get(&center)?;
        let analytics = self.analytics();
        let limit = limit.max(1);
        let mut depth_of: HashMap<usize, usize> = HashMap::from([(start, 0)]);
        let mut order = vec![start];
        let mut truncated = false;
        let mut next = 0;
        while next < order.len() {
            let u = order[next];
            next += 1;
            let d = depth_of[&u];
            if d == depth {
                continue;
            }
            let mut links: Vec<(usize, usize)> = self.adjacency[u].clone();
            links.sort_by(|a, b| {
                self.tie(b.1)
                    .cmp(&self.tie(a.1))
                    .then(analytics.pagerank[b.0].total_cmp(&analytics.pagerank[a.0]))
                    .then(a.1.cmp(&b.1))
            });
            for (v, _) in links {
                if depth_of.contains_key(&v) {
                    continue;
                }
                if order.len() == limit {
                    truncated = true;
                    break;
                }
                depth_of.insert(v, d + 1);
                order.push(v);
            }
        }
        let mut edge_ids: Vec<usize> = order
            .iter()
            .flat_map(|&u| self.adjacency[u].iter())
            .filter(|&&(v, e)| depth_of.contains_key(&v) && self.ends[e].0 != v)
            .map(|&(_, e)| e)
            .collect();
        edge_ids.sort_by_key(|&e| std::cmp::Reverse(self.preference(e)));
        edge_ids.dedup();
        if edge_ids.len() > MAX_SUBGRAPH_EDGES {
            edge_ids.truncate(MAX_SUBGRAPH_EDGES);
            truncated = true;
        }
        let nodes = order
            .iter()
            .map(|&i| {
                let n = &self.nodes[i];
                SubgraphNode {
                    id: n.id,
                    name: n.name.clone(),
                    entity_type: n.entity_type.clone(),
                    mentions: n.mentions,
                    degree: analytics.degree[i],
                    pagerank: analytics.pagerank[i],
                    community: analytics.community[i],
                    depth: depth_of[&i],
                }
            })
            .collect();
        let edges = edge_ids
            .into_iter()
            .map(|e| {
                let edge = &self.edges[e];
                SubgraphEdge {
                    id: edge.id,
                    source: edge.source,
                    target: edge.target,
                    relation_type: edge.relation_type.clone(),
                    description: edge.description.clone(),
                    weight: edge.weight,
                }
            })
            .collect();
        Some(Subgraph {
            center: summary(&self.nodes[start]),
            nodes,
            edges,
            truncated,
        })
    }

    /// Up to `limit` shortest paths of at most `max_hops` relations from `from` to `to`,
    /// strongest first. Stated relations are tried first; co-occurrence links only when no
    /// stated path exists. Empty when they are not connected (or either is unknown); one empty
    /// path when `from == to`.
    pub fn paths(&self, from: i64, to: i64, max_hops: usize, limit: usize) -> Vec<Vec<PathStep>> {
        let (Some(&s), Some(&t)) = (self.index.get(&from), self.index.get(&to)) else {
            return Vec::new();
        };
        if s == t {
            return vec![Vec::new()];
        }
        for allow_co_occurrence in [false, true] {
            let preds = self.shortest_path_dag(s, t, max_hops, allow_co_occurrence);
            if preds.contains_key(&t) {
                return self.enumerate_paths(s, t, &preds, limit.max(1));
            }
        }
        Vec::new()
    }

    /// Breadth-first from `s`, stopping at the level where `t` is reached. Returns, for each
    /// node reached, its predecessors on shortest paths with the strongest edge to each, best
    /// first.
    fn shortest_path_dag(
        &self,
        s: usize,
        t: usize,
        max_hops: usize,
        allow_co_occurrence: bool,
    ) -> HashMap<usize, Vec<(usize, usize)>> {
        let mut dist: HashMap<usize, usize> = HashMap::from([(s, 0)]);
        let mut preds: HashMap<usize, Vec<(usize, usize)>> = HashMap::new();
        let mut level = vec![s];
        for d in 0..max_hops {
            let mut next_level = Vec::new();
            for &u in &level {
                if u != s && self.adjacency[u].len() > MAX_EXPANDED_DEGREE {
                    continue;
                }
                for &(v, e) in &self.adjacency[u] {
                    if !allow_co_occurrence && !is_stated(&self.edges[e]) {
                        continue;
                    }
                    match dist.get(&v) {
                        None => {
                            dist.insert(v, d + 1);
                            next_level.push(v);
                        }
                        Some(&dv) if dv == d + 1 => {}
                        Some(_) => continue,
                    }
                    let entry = preds.entry(v).or_default();
                    match entry.iter_mut().find(|(p, _)| *p == u) {
                        Some(slot) if self.preference(e) > self.preference(slot.1) => slot.1 = e,
                        Some(_) => {}
                        None => entry.push((u, e)),
                    }
                }
            }
            if dist.contains_key(&t) || next_level.is_empty() {
                break;
            }
            level = next_level;
        }
        for list in preds.values_mut() {
            list.sort_by_key(|&(_, e)| std::cmp::Reverse(self.preference(e)));
        }
        preds
    }

    /// Walk the predecessor lists back from `t` to `s`, best edges first, until `limit` paths.
    fn enumerate_paths(
        &self,
        s: usize,
        t: usize,
        preds: &HashMap<usize, Vec<(usize, usize)>>,
        limit: usize,
    ) -> Vec<Vec<PathStep>> {
        let mut paths = Vec::new();
        // Each stack entry: the node reached and the hops from it to `t`, in order.
        let mut stack: Vec<(usize, Vec<Hop>)> = vec![(t, Vec::new())];
        while let Some((v, suffix)) = stack.pop() {
            if v == s {
                paths.push(suffix.iter().map(|&(u, w, e)| self.step(u, w, e)).collect());
                if paths.len() == limit {
                    break;
                }
                continue;
            }
            // Pushed in reverse so the best predecessor is explored first.
            for &(u, e) in preds.get(&v).into_iter().flatten().rev() {
                let mut hops = Vec::with_capacity(suffix.len() + 1);
                hops.push((u, v, e));
                hops.extend_from_slice(&suffix);
                stack.push((u, hops));
            }
        }
        paths
    }

    fn step(&self, u: usize, v: usize, e: usize) -> PathStep {
        let edge = &self.edges[e];
        PathStep {
            relation_id: edge.id,
            from: summary(&self.nodes[u]),
            to: summary(&self.nodes[v]),
            relation_type: edge.relation_type.clone(),
            description: edge.description.clone(),
            forward: self.ends[e].0 == u,
            evidence_chunk: edge.evidence_chunk,
        }
    }

    /// Counts, the `top` actors by PageRank and by degree (of `entity_type` only, if given),
    /// and the `top` largest communities with their most central members.
    pub fn stats(&self, top: usize, entity_type: Option<&str>) -> GraphStats {
        let a = self.analytics();
        let candidates: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| entity_type.is_none_or(|t| self.nodes[i].entity_type == t))
            .filter(|&i| a.degree[i] > 0)
            .collect();
        let mut by_rank = candidates.clone();
        by_rank.sort_by(|&x, &y| a.pagerank[y].total_cmp(&a.pagerank[x]).then(x.cmp(&y)));
        let mut by_degree = candidates;
        by_degree.sort_by(|&x, &y| a.degree[y].cmp(&a.degree[x]).then(x.cmp(&y)));

        let mut members: Vec<Vec<usize>> = vec![Vec::new(); a.community_sizes.len()];
        for (i, c) in a.community.iter().enumerate() {
            if let Some(c) = c {
                members[*c].push(i);
            }
        }
        let communities = members
            .into_iter()
            .enumerate()
            .take(top)
            .map(|(id, mut list)| {
                list.sort_by(|&x, &y| a.pagerank[y].total_cmp(&a.pagerank[x]).then(x.cmp(&y)));
                Community {
                    id,
                    size: list.len(),
                    members: list
                        .iter()
                        .take(COMMUNITY_MEMBERS)
                        .map(|&i| summary(&self.nodes[i]))
                        .collect(),
                }
            })
            .collect();
        GraphStats {
            generation: self.generation,
            entities: self.nodes.len(),
            relations: self.edges.len(),
            components: a.components,
            communities_total: a.community_sizes.len(),
            modularity: a.modularity,
            top_pagerank: by_rank
                .into_iter()
                .take(top)
                .map(|i| RankedActor {
                    entity: summary(&self.nodes[i]),
                    score: a.pagerank[i],
                })
                .collect(),
            top_degree: by_degree
                .into_iter()
                .take(top)
                .map(|i| ConnectedActor {
                    entity: summary(&self.nodes[i]),
                    degree: a.degree[i],
                })
                .collect(),
            communities,
            compute_ms: a.compute_ms,
        }
    }
}

/// Weighted PageRank on an undirected graph; a node without ties spreads its rank evenly.
fn pagerank(adjacency: &[Vec<(usize, f64)>]) -> Vec<f64> {
    let n = adjacency.len();
    if n == 0 {
        return Vec::new();
    }
    let nf = n as f64;
    let strength: Vec<f64> = adjacency
        .iter()
        .map(|l| l.iter().map(|(_, w)| w).sum())
        .collect();
    let mut rank = vec![1.0 / nf; n];
    let mut next = vec![0.0; n];
    for _ in 0..PAGERANK_MAX_ITERATIONS {
        let dangling: f64 = (0..n)
            .filter(|&i| strength[i] == 0.0)
            .map(|i| rank[i])
            .sum();
        let base = (1.0 - DAMPING) / nf + DAMPING * dangling / nf;
        next.iter_mut().for_each(|x| *x = base);
        for (i, links) in adjacency.iter().enumerate() {
            if strength[i] == 0.0 {
                continue;
            }
            let share = DAMPING * rank[i] / strength[i];
            for &(j, w) in links {
                next[j] += share * w;
            }
        }
        let change: f64 = rank.iter().zip(&next).map(|(a, b)| (a - b).abs()).sum();
        std::mem::swap(&mut rank, &mut next);
        if change < PAGERANK_TOLERANCE {
            break;
        }
    }
    rank
}

/// Louvain community detection (Blondel et al. 2008): move nodes between communities while
/// modularity rises, then merge each community into one node and repeat. Deterministic (nodes
/// in index order). Returns the community of every node (arbitrary numbers) and the modularity.
fn louvain(adjacency: &[Vec<(usize, f64)>]) -> (Vec<usize>, f64) {
    let n = adjacency.len();
    let mut membership: Vec<usize> = (0..n).collect();
    // The level graph: off-diagonal weights and the diagonal (weight inside a merged node,
    // counted both ways, as in the adjacency matrix).
    let mut links: Vec<Vec<(usize, f64)>> = adjacency.to_vec();
    let mut inside = vec![0.0; n];
    let total: f64 = adjacency.iter().flatten().map(|(_, w)| w).sum();
    if total == 0.0 {
        return (membership, 0.0);
    }
    for _ in 0..LOUVAIN_MAX_LEVELS {
        let size = links.len();
        let k: Vec<f64> = (0..size)
            .map(|i| inside[i] + links[i].iter().map(|(_, w)| w).sum::<f64>())
            .collect();
        let mut community: Vec<usize> = (0..size).collect();
        let mut community_total = k.clone();
        let mut to_community = vec![0.0; size];
        let mut touched: Vec<usize> = Vec::new();
        let mut moved_any = false;
        for _ in 0..LOUVAIN_MAX_PASSES {
            let mut moved = false;
            for i in 0..size {
                let own = community[i];
                touched.push(own);
                for &(j, w) in &links[i] {
                    let c = community[j];
                    if to_community[c] == 0.0 && c != own {
                        touched.push(c);
                    }
                    to_community[c] += w;
                }
                community_total[own] -= k[i];
                let gain = |c: usize| to_community[c] - community_total[c] * k[i] / total;
                let mut best = own;
                let mut best_gain = gain(own);
                for &c in &touched {
                    let g = gain(c);
                    if g > best_gain + 1e-12 {
                        best = c;
                        best_gain = g;
                    }
                }
                community_total[best] += k[i];
                if best != own {
                    community[i] = best;
                    moved = true;
                    moved_any = true;
                }
                for &c in &touched {
                    to_community[c] = 0.0;
                }
                touched.clear();
            }
            if !moved {
                break;
            }
        }
        if !moved_any {
            break;
        }
        // Renumber the communities densely and merge each into one node.
        let mut number = vec![usize::MAX; size];
        let mut count = 0;
        for &c in &community {
            if number[c] == usize::MAX {
                number[c] = count;
                count += 1;
            }
        }
        for m in membership.iter_mut() {
            *m = number[community[*m]];
        }
        let mut merged: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); count];
        let mut merged_inside = vec![0.0; count];
        for i in 0..size {
            let ci = number[community[i]];
            merged_inside[ci] += inside[i];
            for &(j, w) in &links[i] {
                let cj = number[community[j]];
                if ci == cj {
                    merged_inside[ci] += w;
                } else {
                    *merged[ci].entry(cj).or_default() += w;
                }
            }
        }
        links = merged
            .into_iter()
            .map(|m| m.into_iter().collect())
            .collect();
        inside = merged_inside;
        if count == size {
            break;
        }
    }
    let modularity = modularity(adjacency, &membership, total);
    (membership, modularity)
}

/// Newman's modularity of a partition of the undirected weighted graph.
fn modularity(adjacency: &[Vec<(usize, f64)>], membership: &[usize], total: f64) -> f64 {
    let groups = membership.iter().max().map_or(0, |m| m + 1);
    let mut within = vec![0.0; groups];
    let mut degree = vec![0.0; groups];
    for (i, links) in adjacency.iter().enumerate() {
        for &(j, w) in links {
            degree[membership[i]] += w;
            if membership[i] == membership[j] {
                within[membership[i]] += w;
            }
        }
    }
    within
        .iter()
        .zip(&degree)
        .map(|(inside, deg)| inside / total - (deg / total).powi(2))
        .sum()
}

/// Renumber communities by size (largest first; ties by their most central member) and drop
/// the ones of a single node.
fn number_by_size(membership: &[usize], pagerank: &[f64]) -> (Vec<Option<usize>>, Vec<usize>) {
    let groups = membership.iter().max().map_or(0, |m| m + 1);
    let mut sizes = vec![0usize; groups];
    let mut best = vec![0.0f64; groups];
    for (i, &c) in membership.iter().enumerate() {
        sizes[c] += 1;
        best[c] = best[c].max(pagerank[i]);
    }
    let mut order: Vec<usize> = (0..groups).filter(|&c| sizes[c] > 1).collect();
    order.sort_by(|&a, &b| {
        sizes[b]
            .cmp(&sizes[a])
            .then(best[b].total_cmp(&best[a]))
            .then(a.cmp(&b))
    });
    let mut number = vec![None; groups];
    for (rank, &c) in order.iter().enumerate() {
        number[c] = Some(rank);
    }
    (
        membership.iter().map(|&c| number[c]).collect(),
        order.iter().map(|&c| sizes[c]).collect(),
    )
}

/// Connected components, isolated nodes included.
fn components(adjacency: &[Vec<(usize, f64)>]) -> usize {
    let mut seen = vec![false; adjacency.len()];
    let mut count = 0;
    let mut stack = Vec::new();
    for start in 0..adjacency.len() {
        if seen[start] {
            continue;
        }
        count += 1;
        seen[start] = true;
        stack.push(start);
        while let Some(u) = stack.pop() {
            for &(v, _) in &adjacency[u] {
                if !seen[v] {
                    seen[v] = true;
                    stack.push(v);
                }
            }
        }
    }
    count
}

/// A neighbourhood: nodes in breadth-first order (the center first) and the relations among
/// them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Subgraph {
    pub center: EntitySummary,
    pub nodes: Vec<SubgraphNode>,
    pub edges: Vec<SubgraphEdge>,
    /// True when the node or edge cap cut the neighbourhood.
    pub truncated: bool,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct SubgraphNode {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub entity_type: String,
    pub mentions: u64,
    /// Distinct neighbours in the whole graph.
    pub degree: usize,
    pub pagerank: f64,
    /// Community number (0 is the largest); null for an entity in no community.
    pub community: Option<usize>,
    /// Hops from the center.
    pub depth: usize,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct SubgraphEdge {
    /// The relation id.
    pub id: i64,
    /// Source entity id.
    pub source: i64,
    /// Target entity id.
    pub target: i64,
    #[serde(rename = "type")]
    pub relation_type: String,
    pub description: String,
    /// Evidence count.
    pub weight: u64,
}

/// Counts, central actors and communities of the whole graph.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct GraphStats {
    /// The write generation these figures describe.
    pub generation: u64,
    pub entities: usize,
    pub relations: usize,
    /// Connected components, isolated entities included.
    pub components: usize,
    /// Communities of two or more entities.
    pub communities_total: usize,
    /// Louvain modularity of the partition.
    pub modularity: f64,
    pub top_pagerank: Vec<RankedActor>,
    pub top_degree: Vec<ConnectedActor>,
    /// The largest communities, each with its most central members.
    pub communities: Vec<Community>,
    /// Time spent computing the analytics for this generation (once, then cached).
    pub compute_ms: f64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct RankedActor {
    pub entity: EntitySummary,
    pub score: f64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ConnectedActor {
    pub entity: EntitySummary,
    pub degree: usize,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Community {
    pub id: usize,
    pub size: usize,
    /// Most central first.
    pub members: Vec<EntitySummary>,
}

/// The current [`Graph`], reloaded when the store's write generation moves on.
pub struct GraphCache {
    store: Arc<Store>,
    current: Mutex<Option<Arc<Graph>>>,
}

impl GraphCache {
    pub fn new(store: Arc<Store>) -> GraphCache {
        GraphCache {
            store,
            current: Mutex::new(None),
        }
    }

    /// The graph of the current generation. Blocking: the first call after a write reads the
    /// graph (concurrent callers wait for that one read rather than repeat it).
    pub fn get(&self) -> Result<Arc<Graph>> {
        let generation = self.store.generation();
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(graph) = current.as_ref().filter(|g| g.generation >= generation) {
            return Ok(graph.clone());
        }
        let _span = tracing::info_span!("graph.load", generation).entered();
        let graph = Arc::new(Graph::new(self.store.graph_data()?));
        *current = Some(graph.clone());
        Ok(graph)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: i64, name: &str) -> GraphEntity {
        GraphEntity {
            id,
            name: name.into(),
            entity_type: "person".into(),
            mentions: 1,
        }
    }

    fn edge(id: i64, source: i64, target: i64, ty: &str) -> GraphRelation {
        GraphRelation {
            id,
            source,
            target,
            relation_type: ty.into(),
            description: format!("{source} {ty} {target}"),
            weight: 1,
            evidence_chunk: Some(100 + id),
        }
    }

    fn graph(names: &[&str], relations: &[(i64, i64, &str)]) -> Graph {
        Graph::new(GraphData {
            generation: 7,
            entities: names
                .iter()
                .enumerate()
                .map(|(i, n)| node(i as i64 + 1, n))
                .collect(),
            relations: relations
                .iter()
                .enumerate()
                .map(|(i, &(s, t, ty))| edge(i as i64 + 1, s, t, ty))
                .collect(),
        })
    }

    fn hops(path: &[PathStep]) -> Vec<(&str, &str, &str, bool)> {
        path.iter()
            .map(|s| {
                (
                    s.from.name.as_str(),
                    s.relation_type.as_str(),
                    s.to.name.as_str(),
                    s.forward,
                )
            })
            .collect()
    }

    /// Ann(1) –associated_with– Bo(2); Ann –funds→ Cy(3); Bo –supports→ Cy; Di(4)
    /// –associated_with– Ann; Ed(5) knows nobody.
    fn small() -> Graph {
        graph(
            &["Ann", "Bo", "Cy", "Di", "Ed"],
            &[
                (1, 2, CO_OCCURRENCE),
                (1, 3, "funds"),
                (2, 3, "supports"),
                (4, 1, CO_OCCURRENCE),
            ],
        )
    }

    #[test]
    fn stated_relations_are_preferred_to_co_occurrence_and_directions_are_kept() {
        let g = small();
        let paths = g.paths(1, 2, 4, 3);
        assert_eq!(paths.len(), 1, "{paths:?}");
        assert_eq!(
            hops(&paths[0]),
            vec![
                ("Ann", "funds", "Cy", true),
                ("Cy", "supports", "Bo", false)
            ]
        );
        assert_eq!(paths[0][0].evidence_chunk, Some(102));
    }

    #[test]
    fn co_occurrence_is_used_when_nothing_else_connects_and_hops_are_bounded() {
        let g = small();
        let path = &g.paths(4, 3, 4, 1)[0];
        assert_eq!(
            hops(path),
            vec![
                ("Di", CO_OCCURRENCE, "Ann", true),
                ("Ann", "funds", "Cy", true)
            ]
        );
        assert!(g.paths(4, 3, 1, 3).is_empty());
        assert!(g.paths(1, 5, 4, 3).is_empty());
        assert!(g.paths(1, 99, 4, 3).is_empty());
        assert_eq!(g.paths(1, 1, 4, 3), vec![Vec::new()]);
    }

    #[test]
    fn all_shortest_paths_up_to_the_limit_strongest_first() {
        // A diamond: S → {M1, M2, M3} → T, and a longer detour S → X → Y → T.
        let mut g = graph(
            &["S", "M1", "M2", "M3", "T", "X", "Y"],
            &[
                (1, 2, "funds"),
                (2, 5, "funds"),
                (1, 3, "funds"),
                (3, 5, "funds"),
                (1, 4, "funds"),
                (4, 5, "funds"),
                (1, 6, "funds"),
                (6, 7, "funds"),
                (7, 5, "funds"),
            ],
        );
        // M2's ties carry the most evidence, so its path comes first.
        g.edges[2].weight = 5;
        g.edges[3].weight = 5;
        let paths = g.paths(1, 5, 4, 10);
        let via: Vec<&str> = paths.iter().map(|p| p[0].to.name.as_str()).collect();
        assert_eq!(via, vec!["M2", "M1", "M3"]);
        assert!(paths.iter().all(|p| p.len() == 2));
        assert_eq!(g.paths(1, 5, 4, 2).len(), 2);
    }

    #[test]
    fn hubs_are_passed_through_but_not_expanded() {
        let mut names = vec!["A".to_string(), "B".to_string(), "Hub".to_string()];
        let mut relations = vec![(1, 3, "funds".to_string()), (3, 2, "funds".to_string())];
        for i in 0..MAX_EXPANDED_DEGREE as i64 {
            names.push(format!("Leaf {i}"));
            relations.push((3, 4 + i, "employs".to_string()));
        }
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let relations: Vec<(i64, i64, &str)> = relations
            .iter()
            .map(|(s, t, ty)| (*s, *t, ty.as_str()))
            .collect();
        let g = graph(&names, &relations);
        assert!(g.paths(1, 2, 4, 1).is_empty(), "A–Hub–B goes through a hub");
        assert_eq!(g.paths(1, 3, 4, 1).len(), 1, "the hub itself is reachable");
        assert_eq!(g.paths(3, 2, 4, 1).len(), 1, "a hub can start a path");
    }

    /// Two cliques of five joined by one bridge, and an isolated pair.
    fn planted() -> Graph {
        let mut relations = Vec::new();
        for group in [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]] {
            for (i, &a) in group.iter().enumerate() {
                for &b in &group[i + 1..] {
                    relations.push((a, b, "allied_with"));
                }
            }
        }
        relations.push((5, 6, "funds"));
        relations.push((11, 12, "married_to"));
        graph(
            &[
                "a1", "a2", "a3", "a4", "a5", "b1", "b2", "b3", "b4", "b5", "c1", "c2", "lone",
            ],
            &relations,
        )
    }

    #[test]
    fn louvain_recovers_planted_communities() {
        let g = planted();
        let a = g.analytics();
        let c = &a.community;
        assert!(c[..5].iter().all(|x| *x == c[0]) && c[0].is_some());
        assert!(c[5..10].iter().all(|x| *x == c[5]) && c[5].is_some());
        assert_ne!(c[0], c[5]);
        assert_eq!(c[10], c[11]);
        assert_ne!(c[10], c[0]);
        assert_eq!(c[12], None, "an isolated entity is in no community");
        assert_eq!(a.community_sizes, vec![5, 5, 2]);
        // Two 10-edge cliques + a bridge + a pair: Q = Σ in/2m − (deg/2m)².
        let total: f64 = 2.0 * 22.0;
        let expected =
            2.0 * (20.0 / total - (21.0 / total).powi(2)) + (2.0 / total) - (2.0 / total).powi(2);
        assert!((a.modularity - expected).abs() < 1e-9, "{}", a.modularity);
        assert_eq!(a.components, 3);
    }

    #[test]
    fn pagerank_and_degree_rank_the_bridges_first() {
        let g = planted();
        let a = g.analytics();
        assert!((a.pagerank.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let stats = g.stats(2, None);
        let top: Vec<&str> = stats
            .top_pagerank
            .iter()
            .map(|r| r.entity.name.as_str())
            .collect();
        assert_eq!(top, vec!["a5", "b1"]);
        assert_eq!(stats.top_degree[0].degree, 5);
        assert_eq!(stats.communities.len(), 2);
        assert_eq!(stats.communities[0].members[0].name, "a5");
        assert_eq!(stats.communities_total, 3);
        assert!(g.stats(5, Some("organization")).top_pagerank.is_empty());
        assert!(
            stats.top_pagerank.iter().all(|r| r.entity.name != "lone"),
            "isolated entities are not actors"
        );
    }

    #[test]
    fn subgraph_is_bounded_by_depth_and_limit_and_keeps_its_edges() {
        let g = planted();
        let one = g.subgraph(5, 1, 100).unwrap_or_else(|| panic!("a5 exists"));
        let names: Vec<&str> = one.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names[0], "a5");
        assert_eq!(names.len(), 6, "{names:?}");
        assert!(names.contains(&"b1"));
        assert!(!one.truncated);
        // Every clique edge among a1..a5 (10) and the bridge.
        assert_eq!(one.edges.len(), 11);
        let two = g.subgraph(5, 2, 100).unwrap_or_else(|| panic!("a5 exists"));
        assert_eq!(two.nodes.len(), 10);
        assert!(two.nodes.iter().all(|n| n.depth <= 2));
        let capped = g.subgraph(5, 2, 3).unwrap_or_else(|| panic!("a5 exists"));
        assert_eq!(capped.nodes.len(), 3);
        assert!(capped.truncated);
        // All of a5's ties are stated with equal evidence, so the choice falls to PageRank: b1
        // (the other end of the bridge) outranks the clique members.
        assert_eq!(capped.nodes[1].name, "b1");
        assert!(g.subgraph(999, 1, 10).is_none());
    }

    #[test]
    fn empty_graph_has_empty_analytics() {
        let g = graph(&[], &[]);
        let stats = g.stats(10, None);
        assert_eq!(
            (stats.entities, stats.relations, stats.components),
            (0, 0, 0)
        );
        assert_eq!(stats.modularity, 0.0);
        assert!(stats.communities.is_empty());
    }
}
