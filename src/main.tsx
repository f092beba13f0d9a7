import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { installDebugHooks } from './ui/lib/debug';
import { registerServiceWorker } from './ui/lib/sw';
import './ui/styles.css';

installDebugHooks();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
registerServiceWorker();
