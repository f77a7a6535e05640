using BenchmarkDotNet.Running;

// `make microbench` runs every benchmark; arguments pass through (e.g. --filter '*Parse*' --job short).
BenchmarkSwitcher.FromAssembly(typeof(AdmissionGate.Benchmarks.HotPathBenchmarks).Assembly).Run(args);
