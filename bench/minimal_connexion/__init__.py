"""A minimal Connexion 3 app serving spacegate's contract, for `bench.mock_throughput`."""
