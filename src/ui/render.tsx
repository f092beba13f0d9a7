// Renders the app into the page (loaded by src/main.tsx beside the inference worker's start).
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';

export function render(root: HTMLElement): void {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
