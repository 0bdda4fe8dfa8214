from llmarch_cli.cli.app import main

main()
