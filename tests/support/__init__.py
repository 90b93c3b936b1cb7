"""Test support: servers on 127.0.0.1, tokens and headers, bodies, the contract as a judge."""
