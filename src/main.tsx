import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ensureModel } from './ui/hooks/useClassifier';
import { parseRoute } from './ui/hooks/useHashRoute';
import { App } from './ui/App';
import { installDebugHooks } from './ui/lib/debug';
import { registerServiceWorker } from './ui/lib/sw';
import './ui/styles.css';

// Start the inference worker and the model download before React renders anything: the first
// prediction waits on the worker (tfjs, backend, model, warm-up), not on the page. The Train page
// runs its own worker and does not need this one until its model is used.
if (parseRoute(window.location.hash) !== 'train') void ensureModel().catch(() => {});

installDebugHooks();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
registerServiceWorker();
