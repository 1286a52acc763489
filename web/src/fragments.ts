import { graphql } from "./gql";

export const ARTICLE_CARD = graphql(`
  fragment ArticleCard on Article {
    id
    title
    excerpt
    publishedDateTime
    provider {
      id
      name
      domain
    }
    topics {
      id
      name
    }
    leadImage {
      url
      width
      height
      title
    }
  }
`);

export const ARTICLE_PAGE = graphql(`
  fragment ArticlePage on ArticleConnection {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      cursor
      node {
        ...ArticleCard
      }
    }
  }
`);
