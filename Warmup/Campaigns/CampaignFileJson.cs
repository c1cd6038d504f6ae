using System.Text.Json;
using System.Text.Json.Serialization;
using FlashSale.Engine.Campaigns;

namespace FlashSale.Warmup.Campaigns;

/// <summary>
/// The campaign file is written by hand, so comments and trailing commas are fine; an unknown
/// property is not, because a misspelt field would silently default and a stored definition
/// can never be changed afterwards.
/// </summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    AllowTrailingCommas = true,
    ReadCommentHandling = JsonCommentHandling.Skip,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(CampaignDefinition))]
internal sealed partial class CampaignFileJson : JsonSerializerContext;
