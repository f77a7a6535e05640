using AdmissionGate.Cli;

return await GateCli.RunAsync(args);
