import { useQuery } from "@apollo/client/react";
import { useEffect, useMemo, useState } from "react";
import { useSearchParams } from "react-router";
import { ArticleList } from "../components/ArticleList";
import { QueryState } from "../components/QueryState";
import { PAGE_SIZE, useArticlePages } from "../components/useArticlePages";
import { graphql } from "../gql";
import type { ArticleFilter } from "../gql/graphql";
import { type Facet, Facets } from "../search/Facets";
import { useDebounced } from "../search/useDebounced";

export const SEARCH = graphql(`
  query Search($query: String!, $first: Int!, $after: String, $filter: ArticleFilter) {
    search(query: $query, first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        score
        highlights {
          title
          excerpt
        }
        node {
          ...ArticleCard
        }
      }
    }
  }
`);

const DEBOUNCE_MS = 300;

/** The query and its filters live in the URL (?q=&topic=&provider=): a search can
 * be shared, bookmarked and gone back to. */
export function SearchPage() {
  const [params, setParams] = useSearchParams();
  const [text, setText] = useState(params.get("q") ?? "");
  const query = useDebounced(text.trim(), DEBOUNCE_MS);
  const topic = params.get("topic") ?? "";
  const provider = params.get("provider") ?? "";

  useEffect(() => {
    if (query === (params.get("q") ?? "")) return;
    setParams((current) => withParam(current, "q", query), { replace: true });
  }, [query, params, setParams]);

  const setFilter = (name: Facet, value: string) =>
    setParams((current) => withParam(current, name, value));

  return (
    <>
      <h1>Search</h1>
      <form role="search" className="search" onSubmit={(event) => event.preventDefault()}>
        <label htmlFor="search-box">Words, "phrases" or -excluded words</label>
        <input
          id="search-box"
          type="search"
          value={text}
          onChange={(event) => setText(event.target.value)}
          autoFocus
        />
        <Facets topic={topic} provider={provider} onChange={setFilter} />
      </form>
      {query && <Results query={query} filter={filterOf(topic, provider)} />}
    </>
  );
}

function withParam(params: URLSearchParams, name: string, value: string): URLSearchParams {
  const next = new URLSearchParams(params);
  if (value) next.set(name, value);
  else next.delete(name);
  return next;
}

function filterOf(topic: string, provider: string): ArticleFilter | undefined {
  if (!topic && !provider) return undefined;
  return { ...(topic && { topic }), ...(provider && { providerDomain: provider }) };
}

function Results({ query, filter }: { query: string; filter: ArticleFilter | undefined }) {
  const { data, loading, error, fetchMore, refetch, networkStatus } = useQuery(SEARCH, {
    variables: { query, first: PAGE_SIZE, filter },
    notifyOnNetworkStatusChange: true,
  });
  const pages = useArticlePages(data?.search, fetchMore, networkStatus);
  const edges = data?.search.edges;
  const highlights = useMemo(
    () => new Map(edges?.map((edge) => [edge.node.id, edge.highlights])),
    [edges],
  );
  return (
    <section aria-label="Results" aria-live="polite">
      <QueryState loading={loading} error={error} hasData={!!data} onRetry={() => refetch()} />
      {data && (
        <>
          <p className="count">
            {data.search.totalCount === 0 ? "No article matches." : `${data.search.totalCount} results`}
          </p>
          <ArticleList
            label="Search results"
            articles={pages.articles}
            hasNextPage={pages.hasNextPage}
            loadingMore={pages.loadingMore}
            onLoadMore={pages.loadMore}
            highlights={highlights}
          />
        </>
      )}
    </section>
  );
}
