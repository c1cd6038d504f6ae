using FlashSale.Engine;
using FlashSale.Engine.Pipeline;
using FlashSale.Persister.Pipeline;

var builder = Host.CreateApplicationBuilder(args);

builder.AddFlashSaleEngine();
builder.AddFlashSaleKafka();
builder.AddFlashSaleShards();
builder.AddPersisterPipeline();

var host = builder.Build();

await host.Services.MigrateCatalogAsync();
await host.Services.MigrateShardsAsync();

await host.RunAsync();
