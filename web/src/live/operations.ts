import { gql, type TypedDocumentNode } from "@apollo/client";

// Written against the planned `Subscription.articleAdded(filter: ArticleFilter):
// Article!` of the subscriptions branch; not in schema.graphql yet, so this file is
// kept out of codegen and of the persisted query manifest (see README.md here).
export type ArticleAddedSubscription = {
  articleAdded: {
    __typename: "Article";
    id: string;
    title: string;
    excerpt: string | null;
    publishedDateTime: string;
    provider: { __typename: "Provider"; id: string; name: string; domain: string };
    topics: { __typename: "Topic"; id: string; name: string }[];
    leadImage: {
      __typename: "Image";
      url: string;
      width: number | null;
      height: number | null;
      title: string | null;
    } | null;
  };
};

export const ARTICLE_ADDED: TypedDocumentNode<ArticleAddedSubscription, Record<string, never>> = gql`
  subscription ArticleAdded {
    articleAdded {
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
  }
`;
