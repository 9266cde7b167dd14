enum PeriscopeAgentPlaceholder {}
