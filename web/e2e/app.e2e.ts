/**
 * End-to-end acceptance test of the web UI against a running server with the demo corpus.
 *
 *   SOCIOGRAPH_URL     the server (default http://127.0.0.1:8100); the app is at $URL/app/
 *   SOCIOGRAPH_UPLOAD  a file to upload (default ../testdata/good/brackwater-memo.pdf)
 *   SCREENSHOT_DIR     where ask.png and graph.png go (default ../docs/img)
 *   CHROMIUM           the browser binary (default /usr/bin/chromium)
 *   SOCIOGRAPH_API_KEY an API key, when the server requires one (put in the app's settings)
 *
 * The steps run in order and share one page, as a user would; each asserts on what is on the
 * screen. Only phrases and names that are in corpus/demo are assumed.
 */

import { mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const web = resolve(here, '..');
const BASE = (process.env.SOCIOGRAPH_URL || 'http://127.0.0.1:8100').replace(/\/+$/, '');
const APP = `${BASE}/app/`;
const UPLOAD = resolve(web, process.env.SOCIOGRAPH_UPLOAD || '../testdata/good/brackwater-memo.pdf');
const UPLOAD_NAME = basename(UPLOAD);
const SHOTS = resolve(web, process.env.SCREENSHOT_DIR || '../docs/img');
const API_KEY = process.env.SOCIOGRAPH_API_KEY || '';

/** Demo-corpus facts the steps rely on (all in corpus/demo). */
const QUESTION = 'Who funded the demolition of the Saltmarket Fish Hall?';
const ANSWER_PHRASE = 'Harbour Trust';
const GRAPH_ACTOR = 'Harbour Trust';
const PATH_FROM = 'Edward Marsh';
const PATH_TO = 'Victoria Lund';

/** Generous bounds for waiting on the UI; the whole run is bounded by e2e/run.mjs. */
const UI = 15_000;
const INGEST = 90_000;

let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
let uploadedId: string | null = null;

const tid = (id: string) => `[data-testid="${id}"]`;

async function shot(p: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await p.screenshot({ path: join(SHOTS, name), fullPage: false });
  console.log(`    screenshot ${join(SHOTS, name)}`);
}

/** Pick an entity in an EntityPicker by typing its name. */
async function pickEntity(p: Page, picker: string, name: string): Promise<void> {
  const input = p.locator(tid(`${picker}-input`));
  await input.fill('');
  await input.fill(name);
  const option = p.locator(`${tid(picker)} ${tid('entity-option')}[data-name="${name}"]`);
  await option.first().waitFor({ state: 'visible', timeout: UI });
  await option.first().click();
}

describe('SocioGraph web UI', () => {
  beforeAll(async () => {
    const health = await fetch(`${BASE}/health`).catch((e: unknown) => {
      throw new Error(`the server at ${BASE} is not reachable: ${String(e)}`);
    });
    expect(health.status, `${BASE}/health`).toBe(200);

    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
    context.setDefaultTimeout(UI);
    if (API_KEY) {
      // What the Settings dialog would store.
      await context.addInitScript((key) => {
        localStorage.setItem('sociograph.settings.v1', JSON.stringify({ apiKey: key }));
      }, API_KEY);
    }
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`${e.name}: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      console.log(`    [browser console] ${m.text()}`);
      // The server sends a Content-Security-Policy; anything it blocks is a bug in the app.
      if (/Content Security Policy/i.test(m.text())) pageErrors.push(`CSP: ${m.text()}`);
    });
  });

  afterAll(async () => {
    await browser?.close();
    // A failed run must not leave its upload behind (it would change the next run's corpus).
    if (uploadedId) {
      const res = await fetch(`${BASE}/api/documents/${uploadedId}`, {
        method: 'DELETE',
        headers: API_KEY ? { Authorization: `Bearer ${API_KEY}` } : {},
      }).catch(() => null);
      console.log(`    cleanup: DELETE ${uploadedId} → ${res?.status ?? 'failed'}`);
    }
  });

  it('1. uploads a document on the Documents view and sees its ingest reach "done"', async () => {
    await page.goto(`${APP}documents`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Documents');
    await page.locator(tid('file-input')).setInputFiles(UPLOAD);

    const rowSel = `${tid('upload-row')}[data-name="${UPLOAD_NAME}"]`;
    const row = page.locator(rowSel).first();
    await row.waitFor({ state: 'visible' });
    await page
      .locator(`${rowSel}[data-phase="done"], ${rowSel}[data-phase="failed"]`)
      .first()
      .waitFor({ timeout: INGEST });
    const status = await row.locator(tid('upload-status')).textContent();
    const error = await row.locator('.upload-error').textContent().catch(() => null);
    expect(status, `upload status (error: ${error ?? 'none'})`).toMatch(/^done/);

    // The list refreshes and shows the new document.
    const listed = page.locator(`${tid('document-row')}[data-source="${UPLOAD_NAME}"]`);
    await listed.first().waitFor({ state: 'visible' });
    uploadedId = await listed.first().getAttribute('data-id');
    expect(uploadedId).toMatch(/^doc_[0-9a-f]{16}$/);
    console.log(`    uploaded ${UPLOAD_NAME} as ${uploadedId}: ${status}`);
  });

  it('2. asks a question, sees a streamed answer with citations, and opens a citation', async () => {
    const streamed: string[] = [];
    const onResponse = (r: import('playwright-core').Response) => {
      if (r.url().endsWith('/api/qa/ask/stream')) streamed.push(r.headers()['content-type'] ?? '');
    };
    page.on('response', onResponse);

    await page.locator(tid('nav-ask')).click();
    await page.waitForURL(/\/app\/$/);
    await page.locator(tid('ask-input')).fill(QUESTION);
    await page.locator(tid('ask-submit')).click();

    const answer = page.locator(tid('answer'));
    await answer.locator(tid('citation')).first().waitFor({ state: 'visible', timeout: 45_000 });
    await answer.locator(tid('answer-done')).waitFor({ state: 'visible', timeout: 45_000 });
    page.off('response', onResponse);
    expect(streamed, 'the answer came over the SSE endpoint').toEqual([expect.stringContaining('text/event-stream')]);

    const text = (await answer.locator(tid('answer-text')).innerText()).trim();
    expect(text).toMatch(/\[\d+\]/);
    expect(text).toContain(ANSWER_PHRASE);

    // What the server says the answer's sources are.
    const queryId = await answer.getAttribute('data-query-id');
    expect(queryId).toMatch(/^\d+$/);
    const saved = (await (await fetch(`${BASE}/api/history/${queryId}`)).json()) as {
      citations: { n: number; text: string; document: { title: string } }[];
    };
    const cited = saved.citations.find((c) => c.text.includes(ANSWER_PHRASE)) ?? saved.citations[0];
    expect(cited, 'the answer cites a source').toBeTruthy();

    await answer.locator(`${tid('citation')}[data-n="${cited!.n}"]`).first().click();
    const popover = page.locator(tid('citation-popover'));
    await popover.waitFor({ state: 'visible' });
    const popoverText = (await popover.locator(tid('popover-text')).innerText()).trim();
    expect(popoverText.replace(/\s+/g, ' ')).toBe(cited!.text.trim().replace(/\s+/g, ' '));
    expect(popoverText).toContain(ANSWER_PHRASE);
    await expect(popover.locator(tid('popover-title')).innerText()).resolves.toBe(cited!.document.title);
    console.log(`    answer #${queryId}; citation [${cited!.n}] → ${cited!.document.title}`);
    await shot(page, 'ask.png');
    await page.keyboard.press('Escape');
    await popover.waitFor({ state: 'hidden' });
  });

  it('3. opens the graph around an actor and sees its neighbours', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.locator(tid('nav-graph')).click();
    await page.waitForURL(/\/app\/graph/);
    await pickEntity(page, 'graph-search', GRAPH_ACTOR);
    await page.waitForURL(/entity=\d+/);

    const canvas = page.locator(tid('graph-canvas'));
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="graph-canvas"]')?.getAttribute('data-node-count') ?? 0) > 1,
      undefined,
      { timeout: UI },
    );
    const drawn = await page.evaluate(() => {
      const cy = window.__sociograph?.cy;
      if (!cy) return null;
      const center = cy.nodes('.center');
      return {
        nodes: cy.nodes().length,
        edges: cy.edges().length,
        center: center.data('name') as string,
        neighbours: center
          .neighborhood()
          .nodes()
          .map((n) => ({ id: n.id(), name: n.data('name') as string, pos: n.renderedPosition() })),
      };
    });
    expect(drawn, 'the cytoscape instance is exposed').not.toBeNull();
    expect(drawn!.nodes).toBeGreaterThan(1);
    expect(drawn!.edges).toBeGreaterThan(0);
    expect(drawn!.center).toBe(GRAPH_ACTOR);
    expect(drawn!.neighbours.length).toBeGreaterThan(1);
    console.log(`    ${drawn!.nodes} nodes, ${drawn!.edges} edges around ${drawn!.center}`);

    // A neighbour's name is on the page (the accessible node list), and clicking its node on
    // the canvas opens its details.
    const neighbour = drawn!.neighbours[0]!;
    await expect(page.locator(`${tid('graph-node')}[data-name="${neighbour.name.replace(/"/g, '\\"')}"]`).count()).resolves.toBe(1);
    const box = await canvas.boundingBox();
    expect(box).not.toBeNull();
    await page.mouse.click(box!.x + neighbour.pos.x, box!.y + neighbour.pos.y);
    await expect
      .poll(async () => page.locator(tid('entity-name')).innerText(), { timeout: UI })
      .toBe(neighbour.name);
    console.log(`    clicked neighbour: ${neighbour.name}`);

    // Back to the actor for the screenshot, its details in the side panel.
    await page.evaluate(() => {
      const cy = window.__sociograph?.cy;
      cy?.nodes('.center').emit('tap');
    });
    await expect.poll(async () => page.locator(tid('entity-name')).innerText(), { timeout: UI }).toBe(GRAPH_ACTOR);
    await page.locator(tid('entity-relations')).locator('li').first().waitFor();
    await shot(page, 'graph.png');
  });

  it('4. finds a path between two actors and sees each hop with its evidence', async () => {
    const finder = page.locator(tid('path-finder'));
    await finder.scrollIntoViewIfNeeded();
    await pickEntity(page, 'path-from', PATH_FROM);
    await pickEntity(page, 'path-to', PATH_TO);
    await finder.locator(tid('path-submit')).click();
    await finder.locator(tid('path-result')).waitFor({ state: 'visible' });
    const hops = finder.locator(`${tid('path')} >> nth=0 >> ${tid('path-hop')}`);
    await hops.first().waitFor({ state: 'visible' });
    const count = await hops.count();
    expect(count).toBeGreaterThan(0);
    const lines: string[] = [];
    for (let i = 0; i < count; i++) {
      const hop = hops.nth(i);
      const evidence = (await hop.locator(tid('path-evidence')).innerText()).trim();
      expect(evidence.length, `hop ${i + 1} shows its evidence`).toBeGreaterThan(20);
      lines.push((await hop.locator('.hop-line').innerText()).replace(/\s+/g, ' '));
    }
    expect(lines[0]).toContain(PATH_FROM);
    expect(lines[count - 1]).toContain(PATH_TO);
    console.log(`    path: ${lines.join(' | ')}`);
  });

  it('5. deletes the uploaded document through the confirmation dialog', async () => {
    expect(uploadedId, 'step 1 uploaded a document').toBeTruthy();
    await page.locator(tid('nav-documents')).click();
    await page.waitForURL(/\/app\/documents/);
    const row = page.locator(`${tid('document-row')}[data-id="${uploadedId}"]`);
    await row.waitFor({ state: 'visible' });
    await row.locator(tid('document-delete')).click();

    const dialog = page.locator(tid('confirm-dialog'));
    await dialog.waitFor({ state: 'visible' });
    await expect(dialog.innerText()).resolves.toContain(UPLOAD_NAME);
    await dialog.locator(tid('confirm-ok')).click();
    await dialog.waitFor({ state: 'hidden' });
    await row.waitFor({ state: 'detached' });
    await page.locator(`${tid('toast')}[data-kind="success"]`).filter({ hasText: 'Deleted' }).first().waitFor();
    const res = await fetch(`${BASE}/api/documents/${uploadedId}`);
    expect(res.status, 'the server no longer has the document').toBe(404);
    uploadedId = null;
  });

  it('shows the server\'s message when the API rejects a request', async () => {
    const expected = (await (await fetch(`${BASE}/search?q=`)).json()) as { error: string };
    expect(expected.error).toBeTruthy();
    await page.locator(tid('nav-search')).click();
    await page.waitForURL(/\/app\/search/);
    await page.locator(tid('search-input')).fill('');
    await page.locator(tid('search-submit')).click();
    const alert = page.locator(tid('search-error'));
    await alert.waitFor({ state: 'visible' });
    await expect(alert.innerText()).resolves.toContain(expected.error);
    await expect(alert.getAttribute('role')).resolves.toBe('alert');
  });

  it('has a usable navigation at phone width (390px)', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
    try {
      const p = await phone.newPage();
      p.setDefaultTimeout(UI);
      p.on('pageerror', (e) => pageErrors.push(`${e.name}: ${e.message}`));
      await p.goto(APP);
      const toggle = p.locator(tid('nav-toggle'));
      await toggle.waitFor({ state: 'visible' });
      await expect(p.locator(tid('nav-search')).isVisible()).resolves.toBe(false);
      await toggle.click();
      await expect(toggle.getAttribute('aria-expanded')).resolves.toBe('true');
      await p.locator(tid('nav-search')).waitFor({ state: 'visible' });
      await p.locator(tid('nav-search')).click();
      await p.waitForURL(/\/app\/search/);
      await expect(p.locator('h1').innerText()).resolves.toBe('Search');
      await expect(p.locator(tid('nav-search')).isVisible()).resolves.toBe(false);
      // Nothing is wider than the screen.
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
    } finally {
      await phone.close();
    }
  });

  it('raised no uncaught errors or CSP violations in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
