import { Link, NavLink, Route, Routes } from "react-router";
import { ArticlePage } from "./pages/ArticlePage";
import { HomePage } from "./pages/HomePage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { ProviderPage } from "./pages/ProviderPage";
import { SearchPage } from "./pages/SearchPage";
import { TopicPage } from "./pages/TopicPage";

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
        <Routes>
          <Route path="/" element={<HomePage />} />
          <Route path="/articles/:id" element={<ArticlePage />} />
          <Route path="/topics/:name" element={<TopicPage />} />
          <Route path="/providers/:domain" element={<ProviderPage />} />
          <Route path="/search" element={<SearchPage />} />
          <Route path="*" element={<NotFoundPage />} />
        </Routes>
      </main>
      <footer className="site">
        <p>
          Served by the newsgraph GraphQL API at <code>/graphql</code>.
        </p>
      </footer>
    </>
  );
}
