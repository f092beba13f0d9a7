// The one route table: each page's hash path, document title, nav label and (lazily loaded) module.
// Adding a page is one entry here. Kept free of page imports (each page loads through `load`, a
// dynamic import), so src/main.tsx can read the route without pulling any page into its chunk, and
// can start loading the current page beside React rather than after it.
import type { ComponentType } from 'react';

export interface RouteEntry {
  /** The hash path: `#/<route>`. */
  route: string;
  /** Page title (document title and the page's h1 for screen readers). */
  title: string;
  /** The label in the main navigation. */
  nav: string;
  /** Loads the page's module (default export: the page component). */
  load: () => Promise<{ default: ComponentType }>;
}

export const ROUTE_TABLE = [
  { route: 'classify', title: 'Classify', nav: 'Classify', load: () => import('./pages/ClassifyPage') },
  { route: 'train', title: 'Train', nav: 'Train', load: () => import('./pages/TrainPage') },
  { route: 'evaluate', title: 'Evaluate', nav: 'Evaluate', load: () => import('./pages/EvaluatePage') },
  { route: 'model', title: 'Model card', nav: 'Model card', load: () => import('./pages/ModelCardPage') },
  { route: 'teachers', title: 'For teachers', nav: 'Teachers', load: () => import('./pages/TeachersPage') },
] as const satisfies readonly RouteEntry[];

export type Route = (typeof ROUTE_TABLE)[number]['route'];
export const ROUTES: readonly Route[] = ROUTE_TABLE.map((r) => r.route);
/** The page shown for an empty or unknown hash. */
export const DEFAULT_ROUTE: Route = 'classify';

export function routeEntry(route: Route): RouteEntry {
  return ROUTE_TABLE.find((r) => r.route === route) ?? ROUTE_TABLE[0];
}

export function parseRoute(hash: string): Route {
  const name = hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return (ROUTES as readonly string[]).includes(name) ? (name as Route) : DEFAULT_ROUTE;
}

export function routeHref(route: Route): string {
  return `#/${route}`;
}
