/**
 * The neighbourhood graph, drawn by cytoscape (canvas renderer: pan, zoom and tap built in).
 * Nodes are coloured by community and sized by PageRank; the centre has a dark ring. Tap a
 * node to select it, double-tap to re-centre on it.
 *
 * For tests and debugging the container carries `data-node-count` / `data-edge-count` and
 * `window.__sociograph.cy` is the live instance.
 */

import type { Core, ElementDefinition } from 'cytoscape';
import { useEffect, useRef, useState } from 'preact/hooks';

import type { Subgraph } from '../types';
import { Spinner } from './ui';

declare global {
  interface Window {
    __sociograph?: { cy?: Core };
  }
}

/** Colour-blind-friendly categorical palette (Okabe–Ito plus a few). */
export const COMMUNITY_COLOURS = [
  '#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#7A5195', '#8C6D31',
  '#2F9C95', '#B5525C', '#5B8E3E', '#4A6FA5',
];
export const NO_COMMUNITY = '#94A3B8';

export function communityColour(community: number | null | undefined): string {
  if (community == null || community < 0) return NO_COMMUNITY;
  return COMMUNITY_COLOURS[community % COMMUNITY_COLOURS.length]!;
}

const importCytoscape = () => import('cytoscape');
let cytoscapeModule: ReturnType<typeof importCytoscape> | null = null;
/** cytoscape is only fetched when a graph is first shown. */
function loadCytoscape() {
  cytoscapeModule ??= importCytoscape();
  return cytoscapeModule;
}

function elements(g: Subgraph): ElementDefinition[] {
  const maxRank = Math.max(1e-9, ...g.nodes.map((n) => n.pagerank || 0));
  const ids = new Set(g.nodes.map((n) => n.id));
  const nodes: ElementDefinition[] = g.nodes.map((n) => ({
    group: 'nodes',
    data: {
      id: String(n.id),
      name: n.name,
      type: n.type,
      depth: n.depth,
      colour: communityColour(n.community),
      size: Math.round(22 + 30 * Math.sqrt((n.pagerank || 0) / maxRank)),
    },
    classes: n.id === g.center.id ? 'center' : '',
  }));
  const edges: ElementDefinition[] = g.edges
    .filter((e) => ids.has(e.source) && ids.has(e.target))
    .map((e) => ({
      group: 'edges',
      data: {
        id: `r${e.id}`,
        source: String(e.source),
        target: String(e.target),
        label: e.type.replace(/_/g, ' '),
        weight: e.weight,
        cooccur: e.type === 'associated_with' ? 1 : 0,
      },
    }));
  return [...nodes, ...edges];
}

export function GraphCanvas({ graph, selected, onSelect, onRecenter }: {
  graph: Subgraph;
  selected: number | null;
  onSelect(id: number): void;
  onRecenter(id: number): void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const cyRef = useRef<Core | null>(null);
  const handlers = useRef({ onSelect, onRecenter });
  handlers.current = { onSelect, onRecenter };
  const [ready, setReady] = useState(false);
  const [failed, setFailed] = useState<string | null>(null);

  // Create the instance once.
  useEffect(() => {
    let cancelled = false;
    loadCytoscape()
      .then(({ default: cytoscape }) => {
        if (cancelled || !box.current) return;
        const cy = cytoscape({
          container: box.current,
          elements: [],
          minZoom: 0.15,
          maxZoom: 4,
          wheelSensitivity: 0.3,
          boxSelectionEnabled: false,
          style: [
            {
              selector: 'node',
              style: {
                'background-color': 'data(colour)',
                width: 'data(size)',
                height: 'data(size)',
                label: 'data(name)',
                'font-size': 11,
                'font-family': 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
                color: '#1e293b',
                'text-valign': 'bottom',
                'text-margin-y': 4,
                'text-wrap': 'ellipsis',
                'text-max-width': '130px',
                'text-background-color': '#ffffff',
                'text-background-opacity': 0.75,
                'text-background-padding': '2px',
                'text-background-shape': 'roundrectangle',
                'border-width': 2,
                'border-color': '#ffffff',
                // Labels too small to read are left out until the user zooms in.
                'min-zoomed-font-size': 7,
              },
            },
            {
              selector: 'node.center',
              style: { 'border-width': 4, 'border-color': '#0f172a', 'font-weight': 'bold', 'font-size': 13 },
            },
            {
              selector: 'node:selected',
              style: { 'border-width': 4, 'border-color': '#f59e0b' },
            },
            {
              selector: 'edge',
              style: {
                width: 'mapData(weight, 1, 8, 1.2, 5)',
                'line-color': '#cbd5e1',
                'curve-style': 'bezier',
                'target-arrow-shape': 'triangle',
                'target-arrow-color': '#cbd5e1',
                'arrow-scale': 0.8,
                'font-size': 10,
                color: '#64748b',
                'text-rotation': 'autorotate',
                'text-background-color': '#ffffff',
                'text-background-opacity': 0.8,
                'text-background-padding': '1px',
              },
            },
            {
              selector: 'edge[cooccur = 1]',
              style: { 'line-style': 'dashed', 'target-arrow-shape': 'none' },
            },
            {
              selector: 'edge.near',
              // Relation names only on the selected node's edges: all of them at once are noise.
              style: {
                'line-color': '#f59e0b',
                'target-arrow-color': '#f59e0b',
                'z-index': 10,
                label: 'data(label)',
                color: '#92400e',
              },
            },
          ],
        });
        cy.on('tap', 'node', (e) => handlers.current.onSelect(Number(e.target.id())));
        cy.on('dbltap', 'node', (e) => handlers.current.onRecenter(Number(e.target.id())));
        cyRef.current = cy;
        window.__sociograph = { ...(window.__sociograph ?? {}), cy };
        setReady(true);
      })
      .catch((e: unknown) => setFailed(e instanceof Error ? e.message : String(e)));
    return () => {
      cancelled = true;
      cyRef.current?.destroy();
      cyRef.current = null;
      if (window.__sociograph) window.__sociograph.cy = undefined;
    };
  }, []);

  // Draw the graph.
  useEffect(() => {
    const cy = cyRef.current;
    if (!cy || !ready) return;
    cy.elements().remove();
    cy.add(elements(graph));
    // A small neighbourhood is drawn as rings by distance from the centre (deterministic, easy
    // to read); a larger one with the force-directed layout, which spreads clusters apart.
    const maxDepth = Math.max(0, ...graph.nodes.map((n) => n.depth));
    const layout =
      graph.nodes.length <= 24
        ? cy.layout({
            name: 'concentric',
            concentric: (n) => maxDepth + 1 - Number(n.data('depth') ?? maxDepth),
            levelWidth: () => 1,
            minNodeSpacing: 36,
            spacingFactor: 1.2,
            startAngle: (3 / 2) * Math.PI,
            avoidOverlap: true,
            fit: true,
            padding: 36,
            animate: false,
          })
        : cy.layout({
            name: 'cose',
            animate: false,
            randomize: false,
            fit: true,
            padding: 24,
            nodeRepulsion: () => 12000,
            idealEdgeLength: () => 70,
            edgeElasticity: () => 80,
            nodeOverlap: 16,
            gravity: 0.35,
            numIter: 1200,
            componentSpacing: 60,
          });
    layout.run();
    const el = box.current;
    if (el) {
      el.dataset.nodeCount = String(cy.nodes().length);
      el.dataset.edgeCount = String(cy.edges().length);
      el.dataset.center = String(graph.center.id);
    }
  }, [graph, ready]);

  // Show the selection.
  useEffect(() => {
    const cy = cyRef.current;
    if (!cy || !ready) return;
    cy.batch(() => {
      cy.nodes().unselect();
      cy.edges().removeClass('near');
      if (selected != null) {
        const n = cy.getElementById(String(selected));
        if (n.nonempty()) {
          n.select();
          n.connectedEdges().addClass('near');
        }
      }
    });
  }, [selected, ready, graph]);

  function zoom(factor: number) {
    const cy = cyRef.current;
    if (!cy) return;
    cy.zoom({ level: cy.zoom() * factor, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
  }

  return (
    <div class="graph-canvas-wrap">
      <div
        ref={box}
        class="graph-canvas"
        data-testid="graph-canvas"
        role="img"
        aria-label={`Graph around ${graph.center.name}: ${graph.nodes.length} entities, ${graph.edges.length} relations. The list below has the same entities.`}
      />
      {!ready && !failed && (
        <div class="graph-overlay">
          <Spinner label="Loading the graph…" />
        </div>
      )}
      {failed && <div class="graph-overlay alert alert-error">The graph could not be drawn: {failed}</div>}
      <div class="graph-controls" role="group" aria-label="Zoom">
        <button type="button" class="icon-btn" onClick={() => zoom(1.25)} aria-label="Zoom in">
          +
        </button>
        <button type="button" class="icon-btn" onClick={() => zoom(0.8)} aria-label="Zoom out">
          −
        </button>
        <button type="button" class="icon-btn" onClick={() => cyRef.current?.fit(undefined, 30)} aria-label="Fit to view">
          ⤢
        </button>
      </div>
    </div>
  );
}
