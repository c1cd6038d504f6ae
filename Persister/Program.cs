using FlashSale.Engine;
using FlashSale.Engine.Pipeline;
using FlashSale.Persister.Operations;
using FlashSale.Persister.Pipeline;

var builder = WebApplication.CreateBuilder(args);

builder.AddFlashSaleEngine();
builder.AddFlashSaleKafka();
builder.AddFlashSaleShards();
builder.AddPersisterOperations();
builder.AddPersisterPipeline();

var app = builder.Build();

await app.Services.MigrateCatalogAsync();
await app.Services.MigrateShardsAsync();

app.MapPersisterOperations();

await app.RunAsync();
