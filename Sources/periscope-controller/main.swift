print("periscope-controller")
