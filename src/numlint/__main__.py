from numlint.cli import main

main()
