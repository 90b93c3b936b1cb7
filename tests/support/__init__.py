"""Test support: real servers on 127.0.0.1, tokens and headers, request bodies, the contract as a judge."""
