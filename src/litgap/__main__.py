from litgap.cli import main

main()
