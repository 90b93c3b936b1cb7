from bench.minimal_connexion.app import main

main()
