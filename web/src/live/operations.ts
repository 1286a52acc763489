import { graphql } from "../gql";

// The card's fields, so an announced article renders as every other card (and is
// normalised into the same cache entry). Over WebSocket the API's safelist checks
// this document's text against the build's manifest, like the HTTP operations.
export const ARTICLE_ADDED = graphql(`
  subscription ArticleAdded {
    articleAdded {
      ...ArticleCard
    }
  }
`);
