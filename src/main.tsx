// Entry point. Kept small on purpose: it starts the inference worker and the model download first,
// and loads the React app (App and its pages) beside them rather than before them. The first
// prediction waits on the worker (tfjs, backend, model), so the worker must not wait on the page.
import { ensureModel } from './ui/hooks/useClassifier';
import { parseRoute, routeEntry } from './ui/routes';
import { installDebugHooks } from './ui/lib/debug';
import { registerServiceWorker } from './ui/lib/sw';
import './ui/styles.css';

// The Train page runs its own worker and needs this one only once its model is used.
const route = parseRoute(window.location.hash);
const firstModel = route !== 'train' ? ensureModel() : Promise.resolve();
firstModel.catch(() => {});
// The current page's module loads beside React, not after it (App loads it again from the cache).
void routeEntry(route)
  .load()
  .catch(() => {});
installDebugHooks();
// The offline precache downloads once the first model is in (it would compete with it otherwise).
registerServiceWorker(firstModel);

const root = document.getElementById('root')!;
void import('./ui/render').then(
  ({ render }) => render(root),
  (e: Error) => {
    root.textContent = `CXR Lab could not start: ${e.message}. Reload the page; if this persists, clear the site's data.`;
  },
);
