import Shell

Rounds.main()
