"""The suite, laid out as the source is (server/attune/): core/, backends/, transport/, node/,
themes/, the web UI in web/ and browser/, then docs/, packaging/ and bench/; shared helpers live
in support/."""
