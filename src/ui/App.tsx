import { Suspense, lazy, useEffect, useRef, type ComponentType, type LazyExoticComponent } from 'react';
import { Disclaimer } from './components/Disclaimer';
import { useHashRoute } from './hooks/useHashRoute';
import { setProjector, useProjector } from './lib/projector';
import { ROUTE_TABLE, routeEntry, routeHref, type Route } from './routes';

// Every page loads on demand through the route table (src/main.tsx starts loading the current one
// beside React, so the landing page does not wait for a second round trip).
const PAGES = new Map<Route, LazyExoticComponent<ComponentType>>(ROUTE_TABLE.map((r) => [r.route, lazy(r.load)]));

export function App() {
  const route = useHashRoute();
  const Page = PAGES.get(route)!;
  const projector = useProjector();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    document.title = `${routeEntry(route).title} · CXR Lab`;
    // Move focus to the new page for keyboard and screen-reader users (not on first load).
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [route]);

  return (
    <>
      <a className="skip-link" href="#main" onClick={(e) => (e.preventDefault(), main.current?.focus())}>
        Skip to content
      </a>
      <header className="app-header">
        <div className="app-header__brand">
          <img className="logo" src="icons/icon.svg" alt="" width={28} height={28} />
          <span className="app-header__name">CXR Lab</span>
          <span className="app-header__tag">research &amp; education only · not for clinical use</span>
        </div>
        <nav aria-label="Main">
          <ul className="nav">
            {ROUTE_TABLE.map((n) => (
              <li key={n.route}>
                <a href={routeHref(n.route)} aria-current={route === n.route ? 'page' : undefined} data-testid={`nav-${n.route}`}>
                  {n.nav}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" className="projector-toggle" aria-pressed={projector} data-testid="projector-toggle" onClick={() => setProjector(!projector)}>
          Projector mode
        </button>
      </header>
      <main id="main" ref={main} tabIndex={-1} className="app-main">
        <h1 className="sr-only">{routeEntry(route).title}</h1>
        <Suspense fallback={<p className="muted">Loading…</p>}>
          <Page />
        </Suspense>
      </main>
      <footer className="app-footer">
        <p>Everything runs in this browser: images and results never leave the device. CXR Lab is not a medical device and must not be used for diagnosis.</p>
      </footer>
      <Disclaimer />
    </>
  );
}
