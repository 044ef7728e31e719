"""HTTP/WebSocket API of a node and its static client."""
