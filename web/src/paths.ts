// The app's URLs, in one place: every link is built here.
export const articlePath = (id: string) => `/articles/${encodeURIComponent(id)}`;
export const topicPath = (name: string) => `/topics/${encodeURIComponent(name)}`;
export const providerPath = (domain: string) => `/providers/${encodeURIComponent(domain)}`;
