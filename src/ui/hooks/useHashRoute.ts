// Hash routing (#/classify, #/train, #/evaluate, #/model): works from any sub-path and on static hosts without
// rewrite rules, and survives the service worker's navigation fallback.
import { useSyncExternalStore } from 'react';

export type Route = 'classify' | 'train' | 'evaluate' | 'model' | 'teachers';
export const ROUTES: readonly Route[] = ['classify', 'train', 'evaluate', 'model', 'teachers'];

export function parseRoute(hash: string): Route {
  const name = hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return (ROUTES as readonly string[]).includes(name) ? (name as Route) : 'classify';
}

function subscribe(cb: () => void): () => void {
  window.addEventListener('hashchange', cb);
  return () => window.removeEventListener('hashchange', cb);
}

export function useHashRoute(): Route {
  return useSyncExternalStore(subscribe, () => parseRoute(window.location.hash));
}

export function routeHref(route: Route): string {
  return `#/${route}`;
}
