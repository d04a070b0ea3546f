package clusterclient

// FreshWrites says how many of its writes w holds, standing in for the
// members' caches until their informers deliver them.
func (w *Writer) FreshWrites() int { return w.fresh.Len() }
