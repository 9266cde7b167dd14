enum PeriscopeBPFPlaceholder {}
