package daemon

// QueueCapacities is what the serving daemon's result writer queue and
// each incident shard hold.
func (d *Daemon) QueueCapacities() (writer int, shards []int) {
	w, q := d.writer.Load(), d.incidentQ.Load()
	w.mu.RLock()
	writer = cap(w.ch)
	w.mu.RUnlock()
	q.mu.RLock()
	for _, ch := range q.shards {
		shards = append(shards, cap(ch))
	}
	q.mu.RUnlock()
	return writer, shards
}

// QueueSizes is what queueSize gives the result writer and an incident
// shard for n checks.
func QueueSizes(n int) (writer, shard int) {
	return queueSize(n, minWriterBuffer, maxWriterBuffer), queueSize(n/incidentShards, minIncidentBuffer, maxIncidentBuffer)
}
