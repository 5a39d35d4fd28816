package launch

import "llcr/runtime/spec"

func formatSize(n int64) string { return spec.FormatSize(n) }
