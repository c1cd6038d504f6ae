using FlashSale.Engine;
using FlashSale.Engine.Coupons;
using FlashSale.Engine.Lifecycle;
using FlashSale.Engine.Persistence;
using FlashSale.Engine.Reconciliation;
using FlashSale.Engine.Storage;
using FlashSale.Persister.Operations;

var builder = WebApplication.CreateBuilder(args);

builder.AddPersistence();
builder.AddPaymentTimeouts();
builder.AddReconcilerLoop();
builder.AddCouponSweep();
builder.AddPersisterOperations();

var app = builder.Build();

await app.Services.MigrateCatalogAsync();
await app.Services.MigrateShardsAsync();

app.MapPersisterOperations();

await app.RunAsync();
