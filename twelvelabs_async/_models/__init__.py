"""The models, one module per part of the API; `twelvelabs_async.models` re-exports them all."""
