import { useEffect, useRef } from "react";
import type { ArticleCardFragment } from "../gql/graphql";
import type { Highlights } from "../search/Marked";
import { ArticleCard } from "./ArticleCard";
import { CardSkeletons } from "./Skeleton";

type Props = {
  articles: ArticleCardFragment[];
  hasNextPage: boolean;
  loadingMore: boolean;
  onLoadMore: () => void;
  label: string;
  /** Search results: each card's marked title and excerpt, by article id. */
  highlights?: ReadonlyMap<string, Highlights>;
};

/** Cards in a list: arrow keys (or j/k) move between them; the next page is
 * fetched when the end of the list scrolls into view, or with the button. */
export function ArticleList(props: Props) {
  const { articles, hasNextPage, loadingMore, onLoadMore, label, highlights } = props;
  const sentinel = useRef<HTMLDivElement>(null);
  const loadMore = useRef(onLoadMore);
  loadMore.current = onLoadMore;

  useEffect(() => {
    const target = sentinel.current;
    if (!target || !hasNextPage || loadingMore) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) loadMore.current();
      },
      { rootMargin: "400px" },
    );
    observer.observe(target);
    return () => observer.disconnect();
  }, [hasNextPage, loadingMore, articles.length]);

  return (
    <>
      <ol className="cards" aria-label={label} onKeyDown={moveFocus}>
        {articles.map((article) => (
          <li key={article.id}>
            <ArticleCard article={article} highlights={highlights?.get(article.id)} />
          </li>
        ))}
      </ol>
      {loadingMore && <CardSkeletons count={2} />}
      {hasNextPage && !loadingMore && (
        <button type="button" className="more" onClick={onLoadMore}>
          More articles
        </button>
      )}
      <div ref={sentinel} className="sentinel" />
      {!hasNextPage && articles.length > 0 && <p className="end">That is every article.</p>}
    </>
  );
}

const NEXT = new Set(["ArrowDown", "j"]);
const PREVIOUS = new Set(["ArrowUp", "k"]);

function moveFocus(event: React.KeyboardEvent<HTMLOListElement>) {
  const step = NEXT.has(event.key) ? 1 : PREVIOUS.has(event.key) ? -1 : 0;
  if (step === 0) return;
  const links = Array.from(event.currentTarget.querySelectorAll<HTMLAnchorElement>("a.card-link"));
  const current = links.findIndex((link) => link.closest("li")?.contains(document.activeElement));
  const next = links[Math.min(Math.max(current + step, 0), links.length - 1)];
  if (next) {
    event.preventDefault();
    next.focus();
  }
}
