//go:build !unix

package stats

func cpuTime() int64 { return 0 }
