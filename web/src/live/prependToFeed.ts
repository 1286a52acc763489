import type { ApolloCache, Reference } from "@apollo/client";
import type { ArticleCardFragment } from "../gql/graphql";
type Edge = { __typename: "ArticleEdge"; cursor: string; node: Reference };
type Stored = { edges: Edge[]; pageInfo: Record<string, unknown> };

/** Puts the articles (already normalised by the subscription's result) at the top
 * of the unfiltered, newest-first `articles` list, skipping any already there.
 * Their cursor is left empty: paging only ever continues from the end cursor. */
export function prependToFeed(cache: ApolloCache, added: ArticleCardFragment[]) {
  cache.modify({
    fields: {
      articles(value, { storeFieldName, toReference, readField }) {
        if (storeFieldName !== "articles" && storeFieldName !== "articles:{}") return value;
        // relayStylePagination's stored shape: the list's edges and pageInfo.
        const existing = value as unknown as Stored;
        const present = new Set(existing.edges.map((edge) => readField("id", edge.node)));
        const edges = added
          .filter((article) => !present.has(article.id))
          .flatMap((article) => {
            const node = toReference(article);
            return node ? [{ __typename: "ArticleEdge" as const, cursor: "", node }] : [];
          });
        return { ...existing, edges: [...edges, ...existing.edges] } as unknown as typeof value;
      },
    },
  });
}
