// The app's tests use the host package's HTTP client (one request per connection).
export { request, type HttpReply, type RequestOptions } from '@rusty-counter/host';
