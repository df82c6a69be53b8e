import { defineConfig } from 'vite';

// The Rust binary serves dist/ at /app/; the API stays at / on the same origin. In development
// the Vite server proxies the API to a local `sociograph serve` (SOCIOGRAPH_URL, default :8100).
const api = process.env.SOCIOGRAPH_URL ?? 'http://127.0.0.1:8100';
// The policy the server sends with /app (crates/sociograph-server/src/ui.rs); the preview uses
// it too, so a violation shows up before the UI is embedded in the binary.
const csp =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";
const proxy = { '/api': api, '/search': api, '/health': api, '/docs': api, '/openapi.json': api };

export default defineConfig({
  base: '/app/',
  esbuild: {
    jsx: 'automatic',
    jsxImportSource: 'preact',
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: false,
    // cytoscape alone is ~400 kB minified; it is loaded only by the graph view.
    chunkSizeWarningLimit: 700,
  },
  // `npm run dev` (live reload) and `npm run preview` (the built dist/) both serve the app at
  // /app/ and pass the API through, so the e2e test can run against either.
  server: { host: '127.0.0.1', port: 5173, strictPort: true, proxy },
  preview: { host: '127.0.0.1', port: 4173, strictPort: true, proxy, headers: { 'Content-Security-Policy': csp } },
});
