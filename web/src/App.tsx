import { lazy, Suspense } from "react";
import { Link, NavLink, Route, Routes } from "react-router";
import { CardSkeletons } from "./components/Skeleton";

// Each page is its own chunk, fetched on its first visit: the first load carries
// only the libraries and the page it shows.
const HomePage = lazy(() => import("./pages/HomePage").then((m) => ({ default: m.HomePage })));
const ArticlePage = lazy(() =>
  import("./pages/ArticlePage").then((m) => ({ default: m.ArticlePage })),
);
const TopicPage = lazy(() => import("./pages/TopicPage").then((m) => ({ default: m.TopicPage })));
const ProviderPage = lazy(() =>
  import("./pages/ProviderPage").then((m) => ({ default: m.ProviderPage })),
);
const SearchPage = lazy(() =>
  import("./pages/SearchPage").then((m) => ({ default: m.SearchPage })),
);
const NotFoundPage = lazy(() =>
  import("./pages/NotFoundPage").then((m) => ({ default: m.NotFoundPage })),
);

export function App() {
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="site">
        <Link to="/" className="brand">
          newsgraph
        </Link>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Latest
          </NavLink>
          <NavLink to="/search">Search</NavLink>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<CardSkeletons count={4} />}>
          <Routes>
            <Route path="/" element={<HomePage />} />
            <Route path="/articles/:id" element={<ArticlePage />} />
            <Route path="/topics/:name" element={<TopicPage />} />
            <Route path="/providers/:domain" element={<ProviderPage />} />
            <Route path="/search" element={<SearchPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Routes>
        </Suspense>
      </main>
      <footer className="site">
        <p>
          Served by the newsgraph GraphQL API at <code>/graphql</code>.
        </p>
      </footer>
    </>
  );
}
