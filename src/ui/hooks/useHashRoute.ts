// Hash routing (#/classify, #/train, …; the pages are listed in src/ui/routes.ts): works from any
// sub-path and on static hosts without rewrite rules, and survives the service worker's navigation
// fallback.
import { useSyncExternalStore } from 'react';
import { parseRoute, type Route } from '../routes';

export { parseRoute, routeHref, type Route } from '../routes';

function subscribe(cb: () => void): () => void {
  window.addEventListener('hashchange', cb);
  return () => window.removeEventListener('hashchange', cb);
}

export function useHashRoute(): Route {
  return useSyncExternalStore(subscribe, () => parseRoute(window.location.hash));
}
