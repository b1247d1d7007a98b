from sensorgrid.cli import main

main()
