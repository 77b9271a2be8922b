package memstore_test

import (
	"testing"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/memstore"
	"github.com/credmon/credmon/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return memstore.New() })
}

func BenchmarkPutResult(b *testing.B) { storetest.BenchPutResult(b, memstore.New()) }

func BenchmarkLatestResults(b *testing.B) { storetest.BenchLatestResults(b, memstore.New()) }
