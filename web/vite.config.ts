import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { precompress } from './vite.precompress.js';

const root = path.dirname(fileURLToPath(import.meta.url));

/** The agent web app: built into web/dist and served by the Rapport server at `/`. */
export default defineConfig({
  root,
  base: '/',
  // precompress: .br and .gz beside each asset, served by content negotiation (issue 14).
  plugins: [react(), precompress()],
  build: {
    outDir: path.join(root, 'dist'),
    emptyOutDir: true,
    sourcemap: false,
    // Admin screens are lazy chunks; the initial route must stay small (budget: 150 KB as sent, brotli).
    chunkSizeWarningLimit: 600,
    reportCompressedSize: false,
  },
  server: { proxy: { '/api': { target: 'http://127.0.0.1:3000', ws: true } } },
});
