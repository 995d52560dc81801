import Shell

Rounds.start()
