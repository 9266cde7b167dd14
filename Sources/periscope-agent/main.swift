print("periscope-agent")
