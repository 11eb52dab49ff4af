//go:build stackcheck

package testutil

import "unsafe" // also what go:linkname needs

// allgs is the runtime's list of every goroutine ever created (a
// goroutine's g is reused after it ends). Pulling it needs the linker's
// -checklinkname=0 (go test -tags stackcheck -ldflags=-checklinkname=0).
//
//go:linkname allgs runtime.allgs
var allgs []unsafe.Pointer

// StacksMeasured reports that goroutineStacks reads the runtime's
// goroutines (the stackcheck build tag).
const StacksMeasured = true

// goroutineStacks returns the stack size of every goroutine by its g's
// address: runtime.g begins with its stack bounds, [lo, hi) (a g that
// ended holds its starting stack, or none). It is read without the
// runtime's lock: the caller reads it while goroutines are neither
// created nor growing, and checks the layout (stacksLayoutOK).
func goroutineStacks() map[uintptr]uintptr {
	sizes := make(map[uintptr]uintptr, len(allgs))
	for _, g := range allgs {
		lo, hi := *(*uintptr)(g), *(*uintptr)(unsafe.Add(g, unsafe.Sizeof(uintptr(0))))
		sizes[uintptr(g)] = hi - lo
	}
	return sizes
}

// stacksLayoutOK reports whether exactly one goroutine's stack bounds hold
// a variable of the calling goroutine's stack: the layout goroutineStacks
// reads is the runtime's.
//
//go:noinline
func stacksLayoutOK() bool {
	var here byte
	at := uintptr(unsafe.Pointer(&here))
	found := 0
	for _, g := range allgs {
		lo, hi := *(*uintptr)(g), *(*uintptr)(unsafe.Add(g, unsafe.Sizeof(uintptr(0))))
		if lo <= at && at < hi {
			found++
		}
	}
	return found == 1
}
