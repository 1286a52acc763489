import { Link } from "react-router";

export function NotFoundPage({ what = "page" }: { what?: string }) {
  return (
    <section className="not-found" aria-labelledby="not-found-title">
      <h1 id="not-found-title">Not found</h1>
      <p>There is no such {what}. It may have been removed, or the link is wrong.</p>
      <p>
        <Link to="/">Back to the latest news</Link>
      </p>
    </section>
  );
}
