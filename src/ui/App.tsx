import { Suspense, lazy, useEffect, useRef } from 'react';
import { Disclaimer } from './components/Disclaimer';
import { routeHref, useHashRoute, type Route } from './hooks/useHashRoute';
import ClassifyPage from './pages/ClassifyPage';
import { setProjector, useProjector } from './lib/projector';

// The Classify page is the landing page and is bundled eagerly; the others load on demand (the model
// card and the Evaluate page pull in recharts, the Train page the training code).
const TrainPage = lazy(() => import('./pages/TrainPage'));
const ModelCardPage = lazy(() => import('./pages/ModelCardPage'));
const EvaluatePage = lazy(() => import('./pages/EvaluatePage'));
const TeachersPage = lazy(() => import('./pages/TeachersPage'));

const NAV: { route: Route; text: string }[] = [
  { route: 'classify', text: 'Classify' },
  { route: 'train', text: 'Train' },
  { route: 'evaluate', text: 'Evaluate' },
  { route: 'model', text: 'Model card' },
  { route: 'teachers', text: 'Teachers' },
];

const TITLES: Record<Route, string> = { classify: 'Classify', train: 'Train', evaluate: 'Evaluate', model: 'Model card', teachers: 'For teachers' };

export function App() {
  const route = useHashRoute();
  const projector = useProjector();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    document.title = `${TITLES[route]} · CXR Lab`;
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
            {NAV.map((n) => (
              <li key={n.route}>
                <a href={routeHref(n.route)} aria-current={route === n.route ? 'page' : undefined} data-testid={`nav-${n.route}`}>
                  {n.text}
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
        <h1 className="sr-only">{TITLES[route]}</h1>
        <Suspense fallback={<p className="muted">Loading…</p>}>
          {route === 'classify' && <ClassifyPage />}
          {route === 'train' && <TrainPage />}
          {route === 'evaluate' && <EvaluatePage />}
          {route === 'model' && <ModelCardPage />}
          {route === 'teachers' && <TeachersPage />}
        </Suspense>
      </main>
      <footer className="app-footer">
        <p>
          Everything runs in this browser: images and results never leave the device. CXR Lab is not a medical device and must not be used for diagnosis.
        </p>
      </footer>
      <Disclaimer />
    </>
  );
}
