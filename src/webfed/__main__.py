from webfed.cli import main

main()
